/**
 * @module Tests for the session state table (`src/policy/state-table.ts`, docs/adr/0051): many IPv4 flows through
 * the open-addressing table (several growths), `has` agreeing with `lookup`, the creating packet rebuilt from the
 * packed slot, and `clear` keeping nothing.
 */
import { describe, expect, it } from 'vitest';
import { type Packet, packetFacts } from '../../src/policy/packet.ts';
import { StateTable } from '../../src/policy/state-table.ts';

/** Distinct flows: addresses and ports vary so keys share parts (same a, same b, same ports) without colliding. */
function flow(i: number): Packet {
  return {
    interface: i % 3 === 0 ? 'wan' : 'lan',
    direction: i % 2 === 0 ? 'in' : 'out',
    proto: i % 5 === 0 ? 'udp' : 'tcp',
    src: `10.${(i >>> 8) & 255}.${i & 255}.1`,
    srcPort: 1024 + (i % 7),
    dst: `203.0.113.${i % 11}`,
    dstPort: 443,
    ...(i % 5 === 0 ? {} : { tcpFlags: 'S' }),
  };
}

/** The reply of a flow: the other way round, as pf's state key folds it. */
function reply(p: Packet): Packet {
  return {
    ...p,
    direction: p.direction === 'in' ? 'out' : 'in',
    src: p.dst,
    dst: p.src,
    srcPort: p.dstPort,
    dstPort: p.srcPort,
    ...(p.proto === 'tcp' ? { tcpFlags: 'SA' } : {}),
  };
}

describe('StateTable (IPv4, floating)', () => {
  const count = 5000; // from 1,024 slots, the table grows several times
  const table = new StateTable(false);
  for (let i = 0; i < count; i++) expect(table.create(packetFacts(flow(i)), i)).toBe(true);

  it('finds every state it created, by the packet and by its reply, with the creating rule and packet', () => {
    expect(table.size).toBe(count);
    for (let i = 0; i < count; i += 7) {
      const creating = packetFacts(flow(i));
      expect(table.has(creating)).toBe(true);
      expect(table.has(packetFacts(reply(flow(i))))).toBe(true);
      expect(table.lookup(packetFacts(reply(flow(i))))).toEqual({ ruleIndex: i, facts: creating });
    }
  });

  it('finds no state for flows it never saw', () => {
    const other = (p: Packet): Packet => ({ ...p, dstPort: 444 });
    for (let i = 0; i < count; i += 7) {
      expect(table.has(packetFacts(other(flow(i))))).toBe(false);
      expect(table.lookup(packetFacts(other(flow(i))))).toBeUndefined();
    }
  });

  it('clear() forgets every state, and the table fills again', () => {
    const again = new StateTable(false);
    for (let i = 0; i < count; i++) again.create(packetFacts(flow(i)), i);
    again.clear();
    expect(again.size).toBe(0);
    for (let i = 0; i < count; i += 7) expect(again.has(packetFacts(flow(i)))).toBe(false);
    again.create(packetFacts(flow(3)), 42);
    expect(again.size).toBe(1);
    expect(again.lookup(packetFacts(reply(flow(3))))?.ruleIndex).toBe(42);
  });
});
