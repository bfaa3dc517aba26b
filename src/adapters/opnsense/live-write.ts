/**
 * @module OPNsense live writes (src/adapters/live-write.ts contract) through the filter, d_nat and source_nat
 * controllers and the alias controller (docs/reference/opnsense-api.md §3, §5). Write targets are the model
 * uuids, stable across other writes. Reads decode the option maps of `get_rule`; writes send plain keys (posting
 * a map back is a 500 on the gateway). Every write stages in config; `apply` makes each touched subsystem live
 * (one reload per subsystem for a batch).
 *
 * Rollback (docs/adr/0187-opnsense-rollback-truth.md): on firmware where the timed revert really works, the first
 * filter write of a batch takes a savepoint, the apply passes its revision and cancels the timer once it answers,
 * so a change that cuts Portcullis off reverts on the device after 60 s. Elsewhere no device safety net is
 * claimed: the pending-change engine's before-image → write → apply → read back → restore is the only one.
 */
import type {
  LiveAliasBody,
  LiveObject,
  LivePortForwardBody,
  LiveRuleBody,
  LiveSourceNatBody,
  LiveWrite,
  LiveWriteKind,
  LiveWriter,
  LiveWriteResult,
} from '../live-write.ts';
import type { FirewallAdapter } from '../types.ts';
import { isRecord, OpnSenseAdapter, selectedKeys } from './adapter.ts';
import { decodeEntries, encodeDescription } from './details.ts';
import { OpnSenseDnsOverrides } from './dns-override.ts';
import { OpnSenseError } from './errors.ts';
import { OpnSenseKea } from './kea.ts';
import { OpnSenseVlanInterfaces } from './vlan-interface.ts';

type Subsystem = 'filter' | 'd_nat' | 'source_nat' | 'alias' | 'unbound' | 'kea' | 'vlan' | 'interfaces';

const CONTROLLER: Record<'firewall_rule' | 'port_forward' | 'source_nat', Subsystem> = {
  firewall_rule: 'filter',
  port_forward: 'd_nat',
  source_nat: 'source_nat',
};

const one = (v: unknown): string => {
  if (isRecord(v)) return selectedKeys(v).join(',');
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
};
const on = (v: unknown): boolean => one(v) === '1';
const bit = (b: boolean): string => (b ? '1' : '0');
const orAny = (v: string): string => (v === '' ? 'any' : v);
const orNull = (v: string): string | null => (v === '' ? null : v);

const ACTION_TO = { allow: 'pass', deny: 'block', reject: 'reject' } as const;
const ACTION_FROM: Record<string, LiveRuleBody['action']> = { pass: 'allow', block: 'deny', reject: 'reject' };

export function opnsenseLiveWriter(adapter: FirewallAdapter): LiveWriter {
  if (!(adapter instanceof OpnSenseAdapter)) throw new TypeError(`not an OPNsense adapter: ${adapter.vendor}`);
  return new OpnSenseLiveWriter(adapter);
}

export class OpnSenseLiveWriter implements LiveWriter {
  private readonly dirty = new Set<Subsystem>();
  /** The savepoint revision of this batch's filter writes, where the firmware's revert works. */
  private savepoint: string | null = null;
  /** What the last apply did about the device rollback, for callers and tests. */
  lastRollback: 'armed-and-cancelled' | 'none' = 'none';

  private readonly dns: OpnSenseDnsOverrides;
  private readonly kea: OpnSenseKea;
  private readonly vlans: OpnSenseVlanInterfaces;

  constructor(private readonly a: OpnSenseAdapter) {
    this.dns = new OpnSenseDnsOverrides(a);
    this.kea = new OpnSenseKea(a);
    this.vlans = new OpnSenseVlanInterfaces(a);
  }

  /** VLAN interfaces in their write body with their targets (the live read `vlanInterfaces`). */
  vlanInterfaces(): Promise<Array<LiveObject & { target: string }>> {
    return this.vlans.list();
  }

  /** DNS host overrides in their write body with their targets (the live read `dnsOverrides`). */
  dnsOverrides(): Promise<Array<LiveObject & { target: string }>> {
    return this.dns.list();
  }

  private fail(what: string, detail: string): OpnSenseError {
    return new OpnSenseError('OPN500', `Failed to ${what}: ${detail}.`);
  }

  private async req(what: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    return this.a.call({ code: 'OPN500', what }, method, path, body);
  }

  async read(kind: LiveWriteKind, target: string): Promise<LiveObject | null> {
    if (kind === 'dns_override') return this.dns.read(target);
    if (kind === 'vlan_interface') return this.vlans.read(target);
    if (kind === 'dhcp_scope' || kind === 'dhcp_static_mapping') return this.kea.read(kind, target);
    if (kind === 'alias') {
      const found = await this.a.readAlias(target, { code: 'OPN300', what: `read alias \`${target}\`` });
      if (found === null) return null;
      const { descr, entries } = decodeEntries(found.description, found.content);
      const body: LiveAliasBody = {
        name: target,
        type: found.type as LiveAliasBody['type'],
        description: descr,
        entries: entries.map((e) => ({ address: e.address, detail: e.detail })),
      };
      return body as unknown as LiveObject;
    }
    if (kind !== 'firewall_rule' && kind !== 'port_forward' && kind !== 'source_nat') {
      throw new OpnSenseError('OPN500', `OPNsense live writes do not cover \`${kind}\`.`);
    }
    if (!/^[0-9a-f-]{36}$/i.test(target)) return null;
    const ctl = CONTROLLER[kind];
    const data = await this.a.call({ code: 'OPN300', what: `read ${kind} ${target}` }, 'GET', `/api/firewall/${ctl}/get_rule/${target}`);
    if (Array.isArray(data) || !isRecord(data) || !isRecord(data.rule)) return null; // `[]`: unknown uuid
    const r = data.rule;
    if (kind === 'firewall_rule') return this.ruleFrom(r) as unknown as LiveObject;
    if (kind === 'port_forward') return this.dnatFrom(r) as unknown as LiveObject;
    return this.snatFrom(r) as unknown as LiveObject;
  }

  private ruleFrom(r: Record<string, unknown>): LiveRuleBody {
    const extra: Record<string, unknown> = {};
    const direction = one(r.direction);
    if (direction !== '' && direction !== 'in') extra.direction = direction;
    if (r.quick !== undefined && !on(r.quick)) extra.quick = '0';
    if (one(r.source_not) === '1') extra.source_not = '1';
    if (one(r.destination_not) === '1') extra.destination_not = '1';
    const proto = one(r.protocol).toLowerCase();
    return {
      action: ACTION_FROM[one(r.action)] ?? 'allow',
      interface: one(r.interface),
      ip_version: (one(r.ipprotocol) || 'inet') as LiveRuleBody['ip_version'],
      protocol: (proto === '' ? 'any' : proto) as LiveRuleBody['protocol'],
      source_address: orAny(one(r.source_net)),
      source_port: orNull(one(r.source_port)),
      dest_address: orAny(one(r.destination_net)),
      dest_port: orNull(one(r.destination_port)),
      description: one(r.description),
      is_enabled: r.enabled === undefined ? true : on(r.enabled),
      log_enabled: on(r.log),
      ...(Object.keys(extra).length > 0 ? { vendor_data: extra } : {}),
    };
  }

  private ruleTo(b: LiveRuleBody): Record<string, unknown> {
    const v = b.vendor_data ?? {};
    return {
      enabled: bit(b.is_enabled),
      action: ACTION_TO[b.action],
      quick: typeof v.quick === 'string' ? v.quick : '1',
      interface: b.interface,
      direction: typeof v.direction === 'string' ? v.direction : 'in',
      ipprotocol: b.ip_version,
      protocol: b.protocol === 'any' ? 'any' : b.protocol.toUpperCase(),
      source_net: b.source_address,
      source_not: typeof v.source_not === 'string' ? v.source_not : '0',
      source_port: b.source_port ?? '',
      destination_net: b.dest_address,
      destination_not: typeof v.destination_not === 'string' ? v.destination_not : '0',
      destination_port: b.dest_port ?? '',
      log: bit(b.log_enabled),
      description: b.description,
    };
  }

  private dnatFrom(r: Record<string, unknown>): LivePortForwardBody {
    const src = isRecord(r.source) ? r.source : {};
    const dst = isRecord(r.destination) ? r.destination : {};
    return {
      interface: one(r.interface),
      protocol: (one(r.protocol).toLowerCase() || 'tcp') as LivePortForwardBody['protocol'],
      source_address: orAny(one(src.network)),
      dest_address: orAny(one(dst.network)),
      dest_port: one(dst.port),
      target_address: one(r.target),
      target_port: one(r['local-port']),
      description: one(r.descr),
      is_enabled: !on(r.disabled),
    };
  }

  private dnatTo(b: LivePortForwardBody): Record<string, unknown> {
    return {
      disabled: bit(!b.is_enabled),
      interface: b.interface,
      ipprotocol: 'inet',
      protocol: b.protocol,
      source: { network: b.source_address, port: '', not: '0' },
      destination: { network: b.dest_address, port: b.dest_port, not: '0' },
      target: b.target_address,
      'local-port': b.target_port,
      descr: b.description,
    };
  }

  private snatFrom(r: Record<string, unknown>): LiveSourceNatBody {
    const proto = one(r.protocol).toLowerCase();
    return {
      interface: one(r.interface),
      protocol: (proto === '' ? 'any' : proto) as LiveSourceNatBody['protocol'],
      source_address: orAny(one(r.source_net)),
      dest_address: orAny(one(r.destination_net)),
      target_address: one(r.target),
      description: one(r.description),
      is_enabled: r.enabled === undefined ? true : on(r.enabled),
    };
  }

  private snatTo(b: LiveSourceNatBody): Record<string, unknown> {
    return {
      enabled: bit(b.is_enabled),
      interface: b.interface,
      ipprotocol: 'inet',
      protocol: b.protocol === 'any' ? 'any' : b.protocol.toUpperCase(),
      source_net: b.source_address,
      destination_net: b.dest_address,
      target: b.target_address,
      description: b.description,
    };
  }

  /** Takes the batch's savepoint before its first filter write, where the firmware's revert works. */
  private async armSavepoint(): Promise<void> {
    if (this.savepoint !== null || (await this.a.rollbackTruth()).kind !== 'device') return;
    const data = await this.a.call({ code: 'OPN201', what: 'take a filter savepoint' }, 'POST', '/api/firewall/filter/savepoint');
    if (!isRecord(data) || data.status !== 'ok' || typeof data.revision !== 'string' || data.revision === '') {
      throw new OpnSenseError('OPN201', 'The savepoint answer has no `status: ok` and `revision`.');
    }
    this.savepoint = data.revision;
  }

  private saved(what: string, data: unknown, want: string): void {
    if (!isRecord(data) || data.result !== want) {
      throw this.fail(what, `the gateway answered ${JSON.stringify(data).slice(0, 200)} instead of \`result: ${want}\``);
    }
  }

  async write(change: LiveWrite): Promise<LiveWriteResult> {
    if (change.kind === 'alias') return this.writeAlias(change);
    if (change.kind === 'dns_override') {
      const result = await this.dns.write(change);
      this.dirty.add('unbound');
      return { target: result.target, pending: [...this.dirty] };
    }
    if (change.kind === 'vlan_interface') {
      const result = await this.vlans.write(change);
      for (const sub of result.pending) this.dirty.add(sub);
      return { target: result.target, pending: [...this.dirty] };
    }
    if (change.kind === 'dhcp_scope' || change.kind === 'dhcp_static_mapping') {
      const result = await this.kea.write(change);
      this.dirty.add('kea');
      return { target: result.target, pending: [...this.dirty] };
    }
    if (change.kind !== 'firewall_rule' && change.kind !== 'port_forward' && change.kind !== 'source_nat') {
      throw new OpnSenseError('OPN500', `OPNsense live writes do not cover \`${change.kind}\`.`);
    }
    const ctl = CONTROLLER[change.kind];
    if (ctl === 'filter') await this.armSavepoint();
    const base = `/api/firewall/${ctl}`;
    const what = `${change.op} ${change.kind}${change.target ? ` ${change.target}` : ''}`;
    let target: string | null = change.target;
    if (change.op === 'delete') {
      this.saved(what, await this.req(what, 'POST', `${base}/del_rule/${change.target}`), 'deleted');
    } else if (change.op === 'toggle') {
      // d_nat toggles `disabled`, the inverse flag: its toggle_rule still takes "enabled" 1/0 (docs/reference §5).
      const data = await this.req(what, 'POST', `${base}/toggle_rule/${change.target}/${change.body.is_enabled ? 1 : 0}`);
      if (!isRecord(data) || (data.result !== 'Enabled' && data.result !== 'Disabled')) {
        throw this.fail(what, `the gateway answered ${JSON.stringify(data).slice(0, 200)}`);
      }
    } else {
      const rule =
        change.kind === 'firewall_rule'
          ? this.ruleTo(change.body)
          : change.kind === 'port_forward'
            ? this.dnatTo(change.body)
            : this.snatTo(change.body);
      if (change.op === 'create') {
        const data = await this.req(what, 'POST', `${base}/add_rule`, { rule });
        this.saved(what, data, 'saved');
        target = isRecord(data) && typeof data.uuid === 'string' ? data.uuid : null;
        if (target === null) throw this.fail(what, 'the gateway returned no uuid');
        const before = change.kind === 'firewall_rule' ? (change as { before?: string | null }).before : null;
        if (before) await this.req(`move rule ${target}`, 'POST', `${base}/move_rule_before/${target}/${before}`, {});
      } else {
        this.saved(what, await this.req(what, 'POST', `${base}/set_rule/${change.target}`, { rule }), 'saved');
      }
    }
    this.dirty.add(ctl);
    return { target, pending: [...this.dirty] };
  }

  private async writeAlias(change: Extract<LiveWrite, { kind: 'alias' }>): Promise<LiveWriteResult> {
    const what = `${change.op} alias ${change.target ?? ''}`.trim();
    if (change.op === 'delete') {
      const found = await this.a.readAlias(change.target, { code: 'OPN500', what });
      if (found === null) throw this.fail(what, 'no such alias');
      this.saved(what, await this.req(what, 'POST', `/api/firewall/alias/del_item/${found.uuid}`), 'deleted');
      this.dirty.add('alias');
      return { target: change.target, pending: [...this.dirty] };
    }
    const b = change.body;
    let description: string;
    try {
      description = encodeDescription(b.description, b.entries);
    } catch (err) {
      throw new OpnSenseError('OPN500', `Failed to ${what}: ${(err as Error).message}.`, { field: 'description' });
    }
    const alias = { enabled: '1', name: b.name, type: b.type, content: b.entries.map((e) => e.address).join('\n'), description };
    if (change.op === 'create') {
      this.saved(what, await this.req(what, 'POST', '/api/firewall/alias/add_item', { alias }), 'saved');
    } else {
      const found = await this.a.readAlias(change.target, { code: 'OPN500', what });
      if (found === null) throw this.fail(what, 'no such alias');
      this.saved(what, await this.req(what, 'POST', `/api/firewall/alias/set_item/${found.uuid}`, { alias }), 'saved');
    }
    this.dirty.add('alias');
    return { target: b.name, pending: [...this.dirty] };
  }

  async apply(): Promise<void> {
    // Interfaces first (a rule or a DHCP scope may be on a new one, §7.5), then aliases: rules may reference one.
    if (this.dirty.has('vlan') || this.dirty.has('interfaces')) {
      await this.vlans.apply(this.dirty);
      this.dirty.delete('vlan');
      this.dirty.delete('interfaces');
    }
    for (const sub of ['alias', 'd_nat', 'source_nat', 'filter', 'unbound', 'kea'] as const) {
      if (!this.dirty.has(sub)) continue;
      const what = `apply ${sub}`;
      if (sub === 'unbound' || sub === 'kea') {
        await (sub === 'unbound' ? this.dns.apply() : this.kea.apply());
        this.dirty.delete(sub);
        continue;
      }
      if (sub === 'alias') {
        const data = await this.a.call({ code: 'OPN200', what }, 'POST', '/api/firewall/alias/reconfigure');
        if (!isRecord(data) || data.status !== 'ok') throw new OpnSenseError('OPN200', `alias/reconfigure answered ${JSON.stringify(data).slice(0, 200)}.`);
      } else {
        const rev = sub === 'filter' ? this.savepoint : null;
        const path = `/api/firewall/${sub}/apply${rev ? `/${encodeURIComponent(rev)}` : ''}`;
        const data = await this.a.call({ code: 'OPN200', what }, 'POST', path);
        const status = isRecord(data) && typeof data.status === 'string' ? data.status.trim().toLowerCase() : '';
        if (status !== 'ok') throw new OpnSenseError('OPN200', `${sub}/apply answered ${JSON.stringify(data).slice(0, 200)}.`);
        if (rev) {
          // We can still talk to the gateway: cancel the timed revert (a change that cut us off never gets here).
          const c = await this.a.call({ code: 'OPN201', what: 'cancel the rollback timer' }, 'POST', `/api/firewall/filter/cancel_rollback/${encodeURIComponent(rev)}`);
          if (!isRecord(c) || typeof c.status !== 'string') throw new OpnSenseError('OPN201', 'cancel_rollback gave no status.');
          this.lastRollback = 'armed-and-cancelled';
          this.savepoint = null;
        }
      }
      this.dirty.delete(sub);
    }
  }

  async pendingSubsystems(): Promise<string[]> {
    return [...this.dirty];
  }
}
