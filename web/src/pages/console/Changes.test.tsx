// @vitest-environment jsdom
import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { PendingChange } from '../../api/changes-types';
import { renderWithProviders } from '../../test/render';
import { Outcome, Preview } from './Changes';
import { parseFacts } from './Tracer';

afterEach(cleanup);

const rule = (position: number, descr: string) => ({ kind: 'user', tab: 'lan', position, tracker: null, descr, label: null, ridentifier: null, index: position, action: 'pass' });

function change(fields: Partial<PendingChange>): PendingChange {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    site_id: '00000000-0000-4000-8000-000000000002',
    device_id: '00000000-0000-4000-8000-000000000003',
    target_type: 'firewall_rule',
    operation: 'create',
    target_vendor_id: null,
    status: 'pending',
    payload: {},
    requires_confirmation: false,
    preview: null,
    before_image: null,
    verification: null,
    override_lockout: false,
    override_reason: null,
    reverts_id: null,
    source_rule_id: null,
    place_before: null,
    error: null,
    created_by: null,
    created_at: '2026-12-07T01:00:00.000Z',
    updated_at: '2026-12-07T01:00:00.000Z',
    claimed_at: null,
    applied_at: null,
    applied_by: null,
    ...fields,
  };
}

describe('the semantic preview of a pending change', () => {
  it('lists newly passing and newly blocked traffic with the deciding rule before and after, and the lock-out verdict', () => {
    renderWithProviders(
      <Preview
        preview={{
          available: true,
          lockout: 'cut',
          regions: [
            { change: 'newly-pass', interface: 'lan', direction: 'in', protocols: ['tcp'], source: ['192.168.1.0/24'], destination: null, destinationPorts: ['8443'], before: { verdict: 'block', rule: null, certain: true }, after: { verdict: 'pass', rule: rule(1, 'new web rule'), certain: true } },
            { change: 'newly-block', interface: 'wan', direction: 'in', protocols: null, source: null, destination: ['10.0.0.1'], destinationPorts: null, before: { verdict: 'pass', rule: rule(3, 'old pass'), certain: true }, after: { verdict: 'block', rule: null, certain: true } },
          ],
        }}
      />,
    );
    expect(screen.getByText(/Lock-out check: this change cuts the management path/)).toBeTruthy();
    const rows = within(screen.getByRole('table', { name: 'Traffic whose verdict changes' })).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.textContent)).toEqual([
      'newly-passlan in tcp192.168.1.0/24any port 8443block (default)pass (lan #1 new web rule)',
      'newly-blockwan in any10.0.0.1pass (lan #3 old pass)block (default)',
    ]);
  });

  it('says why there is none, and says nothing changes when no region differs', () => {
    renderWithProviders(<Preview preview={{ available: false, reason: 'the gateway cannot be read to preview the change' }} />);
    expect(screen.getByText('the gateway cannot be read to preview the change')).toBeTruthy();
    cleanup();
    renderWithProviders(<Preview preview={{ available: true, lockout: 'safe', regions: [] }} />);
    expect(screen.getByText(/the management path stays open/)).toBeTruthy();
    expect(screen.getByText(/passes and blocks exactly what the gateway does today/)).toBeTruthy();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it("warns when the change widens what a knoc's alias opens", () => {
    renderWithProviders(
      <Preview preview={{ available: true, lockout: 'safe', regions: [], widens: [{ alias: 'pc_ops', label: 'knoc ops-admins', regions: [], region_count: 2 }] }} />,
    );
    expect(screen.getByText('This change widens what knoc ops-admins opens')).toBeTruthy();
    expect(screen.getByText(/alias pc_ops reaches 2 more region/)).toBeTruthy();
  });
});

describe('the outcome of an apply', () => {
  it('shows the vendor code of a failure', () => {
    renderWithProviders(<Outcome change={change({ status: 'failed', error: { code: 'device_rejected', message: 'interface does not exist', vendor_code: 'PFS042' } })} />);
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('device_rejected (PFS042)');
    expect(alert.textContent).toContain('interface does not exist');
  });

  it('shows what the read-back found different after a failed verification, and whether the before-image came back', () => {
    renderWithProviders(
      <Outcome
        change={change({
          status: 'failed_verification',
          verification: { ok: false, checked: true, differences: [{ field: 'descr', expected: 'web', actual: 'w' }], pending_subsystems: ['filter'], restored: true, restore_errors: [] },
        })}
      />,
    );
    const rows = within(screen.getByRole('table', { name: 'What the read-back found different' })).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.textContent)).toEqual(['descrwebw']);
    expect(screen.getByText('Subsystems still waiting for an apply: filter')).toBeTruthy();
    expect(screen.getByText('Before-image restored.')).toBeTruthy();
  });
});

describe('run-time facts typed in the tracer', () => {
  it('are none when empty, an object when JSON, and invalid otherwise', () => {
    expect(parseFacts('  ')).toBeUndefined();
    expect(parseFacts('{"interfaces": {"wan": "203.0.113.5"}}')).toEqual({ interfaces: { wan: '203.0.113.5' } });
    expect(parseFacts('[1]')).toBe('invalid');
    expect(parseFacts('{ nope')).toBe('invalid');
  });
});
