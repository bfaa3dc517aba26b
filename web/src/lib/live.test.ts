import { describe, expect, it } from 'vitest';
import { awaitsDevice, PENDING_POLL_MS, pollInterval, STREAM_DOWN_POLL_MS, STREAM_UP_POLL_MS } from './live';
import { liveSections, textOf } from './liveView';
import { fieldPaths } from './forms';

describe('live data polling', () => {
  const portal = (state: string) => ({ ip: '192.0.2.1', grants: [{ knoc_id: 'k', sync_state: state }] });

  it('polls fast only while a grant waits for its firewall (no event marks it live)', () => {
    expect(awaitsDevice(portal('pending'))).toBe(true);
    expect(awaitsDevice(portal('live'))).toBe(false);
    expect(awaitsDevice({ items: [{ grant: { sync_state: 'pending' } }] })).toBe(true);
    expect(awaitsDevice(null)).toBe(false);
    expect(awaitsDevice('pending')).toBe(false);
    expect(pollInterval(true, portal('pending'))).toBe(PENDING_POLL_MS);
    expect(pollInterval(false, portal('pending'))).toBe(PENDING_POLL_MS);
  });

  it('otherwise leans on the stream: a slow safety poll while it is up, a faster fallback while it is down', () => {
    expect(pollInterval(true, portal('live'))).toBe(STREAM_UP_POLL_MS);
    expect(pollInterval(false, portal('live'))).toBe(STREAM_DOWN_POLL_MS);
    expect(pollInterval(true, undefined)).toBe(STREAM_UP_POLL_MS);
    expect(STREAM_UP_POLL_MS).toBeGreaterThan(STREAM_DOWN_POLL_MS);
    expect(STREAM_DOWN_POLL_MS).toBeGreaterThan(PENDING_POLL_MS);
  });

  it('stops looking for pending states below a few levels (a large answer is not walked whole)', () => {
    const deep = { a: { b: { c: { d: { e: { sync_state: 'pending' } } } } } };
    expect(awaitsDevice(deep)).toBe(false);
  });
});

describe('live gateway answers as facts and tables', () => {
  it('turns a status answer into facts, nested objects as parent.child, without vendor_data', () => {
    const { facts, tables } = liveSections({
      product_version: '2.7.2',
      uptime: null,
      cpu: { model: 'x86', count: 2, load_avg: [0.5, 0.25] },
      vendor_data: { secret_looking: 'raw' },
    });
    expect(facts).toEqual([
      ['product_version', '2.7.2'],
      ['uptime', '—'],
      ['cpu.model', 'x86'],
      ['cpu.count', '2'],
      ['cpu.load_avg', '0.5, 0.25'],
    ]);
    expect(tables).toEqual([]);
  });

  it('turns lists of rows into tables with the union of their columns (NAT: several lists)', () => {
    const { tables } = liveSections({
      port_forwards: [{ interface: 'wan', is_enabled: true, vendor_data: {} }, { interface: 'lan', description: 'web' }],
      outbound: { mode: 'automatic', mappings: [] },
      one_to_one: [],
    });
    expect(tables.map((t) => t.title)).toEqual(['port_forwards', 'outbound.mappings', 'one_to_one']);
    expect(tables[0]).toEqual({ title: 'port_forwards', columns: ['interface', 'is_enabled', 'description'], rows: [['wan', 'yes', '—'], ['lan', '—', 'web']] });
    expect(tables[1]?.rows).toEqual([]);
  });

  it('shows small objects in a cell as key: value pairs', () => {
    expect(textOf({ code: 'PFS001', message: 'down', vendor_data: { x: 1 } })).toBe('code: PFS001; message: down');
    expect(textOf(false)).toBe('no');
    expect(liveSections('not an object')).toEqual({ facts: [], tables: [] });
  });
});

describe('form field paths', () => {
  it('names nested fields parent.child so an API error on management.port finds its input; list items are not fields', () => {
    expect(fieldPaths({ before: '', management: { port: 1, source: '' }, site_ids: ['a', 'b'] })).toEqual([
      'before',
      'management',
      'management.port',
      'management.source',
      'site_ids',
    ]);
  });
});
