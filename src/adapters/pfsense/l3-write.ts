/**
 * @module pfSense's VLAN interfaces and DHCP scopes over pfRest v2 (docs/reference/brain-l3.md §1-§4): a
 * `vlan_interface` is two pfRest objects, the VLAN (`/api/v2/interface/vlan`, live at once) and the interface that
 * assigns it (`/api/v2/interface`, live after `/api/v2/interface/apply`); a `dhcp_scope` is the DHCP server of one
 * interface (`/api/v2/services/dhcp_server`, id = interface id, subsystem `dhcpd`). Decision:
 * docs/adr/0245-vlan-interface-and-dhcp-scope-kinds.md.
 */
import type { LiveObject, LiveWrite, LiveWriteResult } from '../live-write.ts';
import type { PfSenseAdapter } from './adapter.ts';
import { PFS_CATALOG, PfSenseError } from './errors.ts';

type Row = Record<string, unknown>;
type Api = Pick<PfSenseAdapter, 'request'>;
type L3Kind = 'vlan_interface' | 'dhcp_scope';

const isRow = (v: unknown): v is Row => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function fieldError(kind: L3Kind, field: string, problem: string, httpStatus?: number): PfSenseError {
  return new PfSenseError('PFS500', `${kind} field \`${field}\` ${problem}.`, {
    field,
    ...(httpStatus === undefined ? {} : { httpStatus }),
  });
}

const VLAN = { one: '/api/v2/interface/vlan', many: '/api/v2/interface/vlans' };
const IFACE = { one: '/api/v2/interface', many: '/api/v2/interfaces' };
const DHCP = { one: '/api/v2/services/dhcp_server', many: '/api/v2/services/dhcp_servers' };
const INTERFACE_APPLY = '/api/v2/interface/apply';

/** pfRest response ids and fields → the neutral field they concern (§4.1). */
const VLAN_ERRORS: Record<string, string> = {
  VLAN_INTERFACE_PARENT_NOT_FOUND: 'parent',
  MODEL_FIELDS_NOT_UNIQUE_TOGETHER: 'tag',
  VLAN_INTERFACE_IN_USE_BY_QINQ: 'tag',
  FILTER_NAME_VALIDATOR_: 'name',
  UNIQUE_FROM_FOREIGN_MODEL_VALIDATOR_: 'name',
  INTERFACE_IPADDR_: 'ipv4',
  NETWORK_INTERFACE_IPADDR_: 'ipv4',
  NETWORK_INTERFACE_SUBNET_: 'ipv4',
  INTERFACE_IPADDRV6_: 'ipv6',
};
const VLAN_FIELDS: Record<string, string> = {
  if: 'parent',
  tag: 'tag',
  pcp: 'vendor_data.pcp',
  descr: 'name',
  enable: 'is_enabled',
  ipaddr: 'ipv4',
  subnet: 'ipv4',
  ipaddrv6: 'ipv6',
  subnetv6: 'ipv6',
};
const DHCP_ERRORS: Record<string, string> = {
  DHCP_SERVER_CANNOT_ENABLE_: 'is_enabled',
  DHCP_SERVER_CANNOT_BE_ENABLED_: 'is_enabled',
  DHCP_SERVER_RANGE_FROM_CANNOT_BE_BROADCAST_ADDRESS: 'range_to',
  DHCP_SERVER_RANGE_FROM_: 'range_from',
  DHCP_SERVER_RANGE_TO_: 'range_to',
  DHCP_SERVER_GATEWAY_: 'gateway',
  DHCP_SERVER_PRIMARY_POOL_OVERLAPS_: 'range_from',
  DHCP_SERVER_MAX_LEASE_TIME_: 'vendor_data.maxleasetime',
};
const DHCP_FIELDS: Record<string, string> = {
  interface: 'interface',
  enable: 'is_enabled',
  range_from: 'range_from',
  range_to: 'range_to',
  gateway: 'gateway',
  dnsserver: 'dns_servers',
};

/** DHCP server fields outside the neutral body → what a plain create stores (§4.2, `Models/DHCPServer.inc`). */
const DHCP_EXTRAS: Record<string, readonly unknown[]> = {
  domain: ['', null],
  defaultleasetime: [7200, null],
  maxleasetime: [86400, null],
  ignorebootp: [false, null],
  denyunknown: [null, ''],
};

/** `a.b.c.d/nn` → pfRest's address and prefix fields; null → none. */
function splitCidr(cidr: string | null): [string, number] | null {
  if (cidr === null) return null;
  const slash = cidr.lastIndexOf('/');
  return [cidr.slice(0, slash), Number(cidr.slice(slash + 1))];
}

/** A body field of a neutral body, typed; the pending-change engine checked bodies, the adapter re-checks shapes. */
function bodyOf(kind: L3Kind, body: unknown): Row {
  if (!isRow(body)) throw fieldError(kind, 'body', 'must be an object');
  return body;
}

function need<T>(kind: L3Kind, body: Row, field: string, ok: (v: unknown) => v is T, what: string): T {
  const v = body[field];
  if (!ok(v)) throw fieldError(kind, field, `must be ${what}`);
  return v;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isCidrOrNull = (v: unknown): v is string | null => v === null || (typeof v === 'string' && /^[^/]+\/\d{1,3}$/.test(v));
const isTag = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 4094;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '');

/** The interface fields of a `vlan_interface` body (pfRest NetworkInterface, §1.2). */
function interfaceFields(body: Row): Row {
  const v4 = splitCidr(need('vlan_interface', body, 'ipv4', isCidrOrNull, 'an IPv4 address/prefix or null'));
  const v6 = splitCidr(need('vlan_interface', body, 'ipv6', isCidrOrNull, 'an IPv6 address/prefix or null'));
  return {
    descr: need('vlan_interface', body, 'name', isString, 'a string'),
    enable: need('vlan_interface', body, 'is_enabled', isBool, 'true or false'),
    typev4: v4 ? 'static' : 'none',
    ...(v4 ? { ipaddr: v4[0], subnet: v4[1] } : {}),
    typev6: v6 ? 'staticv6' : 'none',
    ...(v6 ? { ipaddrv6: v6[0], subnetv6: v6[1] } : {}),
  };
}

export class PfSenseL3Writes {
  constructor(private readonly api: Api) {}

  private async list(path: string, what: string, query?: URLSearchParams): Promise<Row[]> {
    const data = await this.api.request('PFS300', what, 'GET', path, query ? { query } : {});
    if (!Array.isArray(data) || !data.every(isRow)) {
      throw new PfSenseError('PFS400', `Unexpected data from ${path} while trying to ${what}: not a list of objects.`);
    }
    return data;
  }

  private async send(
    kind: L3Kind,
    what: string,
    method: 'POST' | 'PATCH' | 'DELETE',
    path: string,
    params: { query?: URLSearchParams; body?: unknown },
  ): Promise<Row> {
    let data: unknown;
    try {
      data = await this.api.request('PFS500', what, method, path, params);
    } catch (err) {
      throw this.named(kind, err);
    }
    if (!isRow(data)) throw new PfSenseError('PFS400', `Unexpected data from ${path} while trying to ${what}: not an object.`);
    return data;
  }

  /** A pfRest validation error re-raised naming the neutral field (by response id, else by pfRest field). */
  private named(kind: L3Kind, err: unknown): unknown {
    if (!(err instanceof PfSenseError) || err.code !== 'PFS500') return err;
    const [byIds, byFields] = kind === 'vlan_interface' ? [VLAN_ERRORS, VLAN_FIELDS] : [DHCP_ERRORS, DHCP_FIELDS];
    const id = err.responseId ?? '';
    const device = /Field [`']([a-z_0-9]+)[`']/.exec(err.message)?.[1];
    const field =
      Object.entries(byIds).find(([prefix]) => id.startsWith(prefix))?.[1] ??
      (device === undefined ? undefined : byFields[device]);
    if (field === undefined) return err;
    const said = err.message.slice(`PFS500 ${PFS_CATALOG.PFS500.title}: `.length).replace(` ${PFS_CATALOG.PFS500.check}`, '');
    return new PfSenseError('PFS500', `${said} (field \`${field}\`)`, {
      field,
      ...(err.httpStatus === undefined ? {} : { httpStatus: err.httpStatus }),
      ...(err.responseId === undefined ? {} : { responseId: err.responseId }),
      cause: err,
    });
  }

  // --- VLAN interfaces -----------------------------------------------------------------------------------------

  private async vlanRows(): Promise<{ vlans: Row[]; interfaces: Row[] }> {
    const [vlans, interfaces] = await Promise.all([
      this.list(VLAN.many, 'list VLANs'),
      this.list(IFACE.many, 'list interfaces'),
    ]);
    return { vlans, interfaces };
  }

  private static vlanObject(vlan: Row, iface: Row | undefined): LiveObject {
    const v4 = iface && str(iface.typev4) === 'static' ? `${str(iface.ipaddr)}/${str(iface.subnet)}` : null;
    const v6 = iface && str(iface.typev6) === 'staticv6' ? `${str(iface.ipaddrv6)}/${str(iface.subnetv6)}` : null;
    const body: LiveObject = {
      parent: str(vlan.if),
      tag: typeof vlan.tag === 'number' ? vlan.tag : Number(vlan.tag),
      name: iface ? str(iface.descr) : '',
      ipv4: v4,
      ipv6: v6,
      description: str(vlan.descr),
      is_enabled: iface?.enable === true,
      // The id other objects name the interface by (a DHCP scope's `interface`); null while unassigned.
      interface_id: iface ? str(iface.id) : null,
    };
    return vlan.pcp === null || vlan.pcp === undefined ? body : { ...body, vendor_data: { pcp: vlan.pcp } };
  }

  /** Every VLAN with its interface, keyed by the VLAN device (`<parent>.<tag>`). */
  async vlanInterfaces(): Promise<Array<LiveObject & { target: string }>> {
    const { vlans, interfaces } = await this.vlanRows();
    return vlans.map((vlan) => ({
      target: str(vlan.vlanif),
      ...PfSenseL3Writes.vlanObject(vlan, interfaces.find((i) => i.if === vlan.vlanif)),
    }));
  }

  private async findVlan(target: string): Promise<{ vlan: Row; iface: Row | undefined } | null> {
    const { vlans, interfaces } = await this.vlanRows();
    const vlan = vlans.find((v) => v.vlanif === target);
    return vlan === undefined ? null : { vlan, iface: interfaces.find((i) => i.if === target) };
  }

  private async writeVlan(change: Extract<LiveWrite, { kind: 'vlan_interface' }>): Promise<LiveWriteResult> {
    const kind = 'vlan_interface';
    if (change.op === 'create') {
      const body = bodyOf(kind, change.body);
      const parent = need(kind, body, 'parent', isString, 'a port name');
      const tag = need(kind, body, 'tag', isTag, 'a VLAN id from 1 to 4094');
      const assignment = interfaceFields(body);
      const pcp = isRow(body.vendor_data) ? body.vendor_data.pcp : undefined;
      const vlan = await this.send(kind, 'create VLAN', 'POST', VLAN.one, {
        body: { if: parent, tag, descr: need(kind, body, 'description', isString, 'a string'), ...(pcp === undefined ? {} : { pcp }) },
      });
      const device = str(vlan.vlanif);
      try {
        await this.send(kind, `assign VLAN \`${device}\``, 'POST', IFACE.one, { body: { if: device, ...assignment } });
      } catch (err) {
        // The VLAN alone is not what was asked for: take it back, then report the assignment's failure.
        await this.send(kind, `withdraw VLAN \`${device}\``, 'DELETE', VLAN.one, { query: new URLSearchParams({ id: str(vlan.id) }) });
        throw err;
      }
      return { target: device, pending: ['interfaces'] };
    }
    const found = await this.findVlan(change.target);
    if (found === null) throw fieldError(kind, 'target', `names no VLAN on the gateway (\`${change.target}\`)`, 404);
    if (change.op === 'delete') {
      if (found.iface !== undefined) {
        await this.send(kind, `remove interface \`${str(found.iface.id)}\``, 'DELETE', IFACE.one, {
          query: new URLSearchParams({ id: str(found.iface.id) }),
        });
      }
      await this.send(kind, `delete VLAN \`${change.target}\``, 'DELETE', VLAN.one, {
        query: new URLSearchParams({ id: str(found.vlan.id) }),
      });
      // An interface delete is live at once and leaves nothing for `/interface/apply` (§1.3).
      return { target: change.target, pending: [] };
    }
    const body = bodyOf(kind, change.body);
    // The device name is `<parent>.<tag>` and the interface points at it: neither can change in place (§1.1).
    if (body.parent !== found.vlan.if) throw fieldError(kind, 'parent', 'cannot change: create the new VLAN interface, delete the old');
    if (body.tag !== found.vlan.tag) throw fieldError(kind, 'tag', 'cannot change: create the new VLAN interface, delete the old');
    const pcp = isRow(body.vendor_data) ? (body.vendor_data.pcp ?? null) : null;
    await this.send(kind, `update VLAN \`${change.target}\``, 'PATCH', VLAN.one, {
      body: { id: found.vlan.id, if: found.vlan.if, descr: need(kind, body, 'description', isString, 'a string'), pcp },
    });
    const assignment = interfaceFields(body);
    if (found.iface === undefined) {
      await this.send(kind, `assign VLAN \`${change.target}\``, 'POST', IFACE.one, { body: { if: change.target, ...assignment } });
    } else {
      await this.send(kind, `update interface \`${str(found.iface.id)}\``, 'PATCH', IFACE.one, {
        body: { id: found.iface.id, ...assignment },
      });
    }
    return { target: change.target, pending: ['interfaces'] };
  }

  // --- DHCP scopes ---------------------------------------------------------------------------------------------

  private static scopeObject(row: Row): LiveObject | null {
    // pfSense keeps an empty, disabled server for interfaces that never had one configured: that is no scope.
    if (row.enable !== true && str(row.range_from) === '' && str(row.range_to) === '') return null;
    const body: LiveObject = {
      interface: str(row.id),
      range_from: str(row.range_from),
      range_to: str(row.range_to),
      gateway: str(row.gateway) === '' ? null : str(row.gateway),
      dns_servers: strList(row.dnsserver),
      is_enabled: row.enable === true,
    };
    const differs = ([field, defaults]: [string, readonly unknown[]]) =>
      field in row && !defaults.some((d) => JSON.stringify(d) === JSON.stringify(row[field]));
    const extra = Object.entries(DHCP_EXTRAS).filter(differs);
    return extra.length === 0 ? body : { ...body, vendor_data: Object.fromEntries(extra.map(([f]) => [f, row[f]])) };
  }

  async dhcpScopes(): Promise<Array<LiveObject & { target: string }>> {
    const rows = await this.list(DHCP.many, 'list DHCP servers');
    return rows.flatMap((row) => {
      const scope = PfSenseL3Writes.scopeObject(row);
      return scope === null ? [] : [{ target: str(row.id), ...scope }];
    });
  }

  private async scopeRow(target: string): Promise<Row | null> {
    const rows = await this.list(DHCP.many, 'list DHCP servers');
    return rows.find((row) => row.id === target) ?? null;
  }

  private scopeFields(body: Row): Row {
    const kind = 'dhcp_scope';
    const gateway = body.gateway;
    if (gateway !== null && typeof gateway !== 'string') throw fieldError(kind, 'gateway', 'must be an address or null');
    const extra = body.vendor_data;
    if (extra !== undefined && !isRow(extra)) throw fieldError(kind, 'vendor_data', 'must be an object');
    for (const name of Object.keys(extra ?? {})) {
      if (DHCP_EXTRAS[name] === undefined) throw fieldError(kind, `vendor_data.${name}`, 'is not a field pfSense keeps beyond the neutral ones');
    }
    return {
      enable: need(kind, body, 'is_enabled', isBool, 'true or false'),
      range_from: need(kind, body, 'range_from', isString, 'an IPv4 address'),
      range_to: need(kind, body, 'range_to', isString, 'an IPv4 address'),
      gateway: gateway ?? '',
      dnsserver: need(kind, body, 'dns_servers', isStrings, 'a list of addresses'),
      ...(extra ?? {}),
    };
  }

  /** pfRest checks the range against the interface's live address: an interface change must be applied first. */
  private async requireApplied(iface: string): Promise<void> {
    const data = await this.api.request('PFS200', 'read the pending interface changes', 'GET', INTERFACE_APPLY);
    const pending = isRow(data) ? data.pending_interfaces : undefined;
    const waiting = Array.isArray(pending) ? pending.includes(iface) : str(pending).split(',').includes(iface);
    if (waiting) {
      throw fieldError('dhcp_scope', 'interface', `\`${iface}\` has interface changes waiting for an apply; apply them first (docs/reference/brain-l3.md §4.2)`);
    }
  }

  private async writeScope(change: Extract<LiveWrite, { kind: 'dhcp_scope' }>): Promise<LiveWriteResult> {
    const kind = 'dhcp_scope';
    if (change.op === 'create') {
      const body = bodyOf(kind, change.body);
      const iface = need(kind, body, 'interface', isString, 'an interface id');
      const fields = this.scopeFields(body);
      await this.requireApplied(iface);
      const existing = await this.scopeRow(iface);
      if (existing !== null && PfSenseL3Writes.scopeObject(existing) !== null) {
        throw fieldError(kind, 'interface', `\`${iface}\` already has a DHCP scope: update it instead`, 409);
      }
      // A POST writes `dhcpd/<id>` whole, static mappings included: an empty server left there is patched instead.
      if (existing === null) {
        await this.send(kind, `create the DHCP scope of \`${iface}\``, 'POST', DHCP.one, { body: { interface: iface, ...fields } });
      } else {
        await this.send(kind, `create the DHCP scope of \`${iface}\``, 'PATCH', DHCP.one, { body: { id: iface, ...fields } });
      }
      return { target: iface, pending: ['dhcpd'] };
    }
    const row = await this.scopeRow(change.target);
    if (row === null || PfSenseL3Writes.scopeObject(row) === null) {
      throw fieldError(kind, 'target', `names no DHCP scope on the gateway (\`${change.target}\`)`, 404);
    }
    if (change.op === 'delete') {
      const mappings = await this.list(
        '/api/v2/services/dhcp_server/static_mappings',
        'list DHCP static mappings',
        new URLSearchParams({ parent_id: change.target }),
      );
      if (mappings.some((m) => m.parent_id === change.target)) {
        throw fieldError(kind, 'target', 'still has static mappings: a delete would drop them unrecorded, delete them first', 409);
      }
      await this.send(kind, `delete the DHCP scope of \`${change.target}\``, 'DELETE', DHCP.one, {
        query: new URLSearchParams({ id: change.target }),
      });
      return { target: change.target, pending: ['dhcpd'] };
    }
    const body = bodyOf(kind, change.body);
    if (body.interface !== change.target) throw fieldError(kind, 'interface', `must be the target \`${change.target}\``);
    const fields = this.scopeFields(body);
    await this.requireApplied(change.target);
    await this.send(kind, `update the DHCP scope of \`${change.target}\``, 'PATCH', DHCP.one, { body: { id: change.target, ...fields } });
    return { target: change.target, pending: ['dhcpd'] };
  }

  // --- LiveWriter parts ----------------------------------------------------------------------------------------

  async read(kind: L3Kind, target: string): Promise<LiveObject | null> {
    if (kind === 'vlan_interface') {
      const found = await this.findVlan(target);
      return found === null ? null : PfSenseL3Writes.vlanObject(found.vlan, found.iface);
    }
    const row = await this.scopeRow(target);
    return row === null ? null : PfSenseL3Writes.scopeObject(row);
  }

  write(change: Extract<LiveWrite, { kind: L3Kind }>): Promise<LiveWriteResult> {
    return change.kind === 'vlan_interface' ? this.writeVlan(change) : this.writeScope(change);
  }
}
