/**
 * @module OPNsense DNS host overrides (`dns_override`) over Unbound's `api/unbound/settings/*_host_override`
 * (docs/reference/brain-l3.md §5.3): one override is one `hosts.host` record of type A or AAAA holding **one**
 * address, addressed by its uuid; `api/unbound/service/reconfigure` makes the changes live. A neutral override with
 * several addresses would be several records under several uuids, so it is refused naming `ip`.
 */
import type { LiveObject, LiveWrite, LiveWriteResult } from '../live-write.ts';
import { isRecord, type OpnSenseAdapter, selectedKeys } from './adapter.ts';
import { OpnSenseError } from './errors.ts';

const BASE = '/api/unbound/settings';
/** Unbound model field → neutral field, to name the neutral field of a validation failure. */
const FIELDS: Record<string, string> = {
  'host.hostname': 'host',
  'host.domain': 'domain',
  'host.server': 'ip',
  'host.rr': 'ip',
  'host.description': 'description',
};
/** Fields outside the neutral body → what a plain create stores (Unbound.xml defaults). */
const EXTRAS: Record<string, string> = { enabled: '1', ttl: '', addptr: '1' };

const text = (v: unknown): string => {
  if (isRecord(v)) return selectedKeys(v).join(',');
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
};

/** The neutral body of a stored host record, or null when it is no address record (MX, TXT). */
function fromHost(h: Record<string, unknown>): LiveObject | null {
  const rr = text(h.rr);
  // search rows show the option's description ("A (IPv4 address)"), get_* its selected key.
  const kind = rr.startsWith('AAAA') ? 'AAAA' : rr === 'A' || rr.startsWith('A ') ? 'A' : null;
  if (kind === null) return null;
  const body: LiveObject = {
    host: text(h.hostname),
    domain: text(h.domain),
    ip: text(h.server) === '' ? [] : [text(h.server)],
    description: text(h.description),
  };
  const extra = Object.entries(EXTRAS).filter(([f, dflt]) => h[f] !== undefined && text(h[f]) !== dflt);
  return extra.length === 0 ? body : { ...body, vendor_data: Object.fromEntries(extra.map(([f]) => [f, text(h[f])])) };
}

function fieldError(field: string, problem: string): OpnSenseError {
  return new OpnSenseError('OPN500', `dns_override field \`${field}\` ${problem}.`, { field });
}

/** The `hosts.host` fields of a neutral body. */
function toHost(body: unknown): Record<string, string> {
  if (!isRecord(body)) throw fieldError('body', 'must be an object');
  const { host, domain, ip, description, vendor_data: extra } = body;
  if (typeof host !== 'string') throw fieldError('host', 'must be a string');
  if (typeof domain !== 'string') throw fieldError('domain', 'must be a string');
  if (typeof description !== 'string') throw fieldError('description', 'must be a string');
  if (!Array.isArray(ip) || ip.length !== 1 || typeof ip[0] !== 'string') {
    throw fieldError('ip', 'must list exactly one address: an Unbound host override holds one (docs/reference/brain-l3.md §5.3)');
  }
  const fields: Record<string, string> = {
    enabled: '1',
    hostname: host,
    domain,
    rr: ip[0].includes(':') ? 'AAAA' : 'A',
    server: ip[0],
    description,
  };
  if (extra === undefined) return fields;
  if (!isRecord(extra)) throw fieldError('vendor_data', 'must be an object');
  for (const [name, value] of Object.entries(extra)) {
    if (EXTRAS[name] === undefined || typeof value !== 'string') {
      throw fieldError(`vendor_data.${name}`, 'is not a field OPNsense keeps beyond the neutral ones');
    }
    fields[name] = value;
  }
  return fields;
}

export class OpnSenseDnsOverrides {
  constructor(private readonly a: OpnSenseAdapter) {}

  private async req(what: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    try {
      return await this.a.call({ code: 'OPN500', what }, method, path, body);
    } catch (err) {
      // Name the neutral field of an Unbound validation failure.
      if (err instanceof OpnSenseError && err.field !== undefined && FIELDS[err.field] !== undefined) {
        throw new OpnSenseError('OPN500', `Failed to ${what}: ${err.validations?.[err.field] ?? 'refused'} (field \`${FIELDS[err.field]}\`).`, {
          field: FIELDS[err.field] as string,
          ...(err.validations ? { validations: { ...err.validations } } : {}),
          cause: err,
        });
      }
      throw err;
    }
  }

  /** Every A / AAAA override with its uuid as target. */
  async list(): Promise<Array<LiveObject & { target: string }>> {
    const data = await this.a.call({ code: 'OPN300', what: 'list DNS host overrides' }, 'GET', `${BASE}/search_host_override`);
    const rows = isRecord(data) && Array.isArray(data.rows) ? data.rows.filter(isRecord) : [];
    return rows.flatMap((row) => {
      const body = fromHost(row);
      return body === null || typeof row.uuid !== 'string' ? [] : [{ target: row.uuid, ...body }];
    });
  }

  async read(target: string): Promise<LiveObject | null> {
    const what = `read DNS host override \`${target}\``;
    const data = await this.a.call({ code: 'OPN300', what }, 'GET', `${BASE}/get_host_override/${encodeURIComponent(target)}`);
    if (!isRecord(data) || !isRecord(data.host)) return null;
    const body = fromHost(data.host);
    if (body === null) throw new OpnSenseError('OPN500', `Host override \`${target}\` is not an address record (A or AAAA).`, { field: 'target' });
    return body;
  }

  private saved(what: string, data: unknown, want: string): void {
    if (!isRecord(data) || data.result !== want) {
      const said = JSON.stringify(data).slice(0, 200);
      throw new OpnSenseError('OPN500', `Failed to ${what}: the gateway answered ${said} instead of \`result: ${want}\`.`, {
        ...(want === 'deleted' ? { field: 'target', httpStatus: 404 } : {}),
      });
    }
  }

  async write(change: Extract<LiveWrite, { kind: 'dns_override' }>): Promise<LiveWriteResult> {
    if (change.op === 'create') {
      const what = 'create DNS host override';
      const data = await this.req(what, 'POST', `${BASE}/add_host_override`, { host: toHost(change.body) });
      this.saved(what, data, 'saved');
      const uuid = isRecord(data) && typeof data.uuid === 'string' ? data.uuid : null;
      if (uuid === null) throw new OpnSenseError('OPN500', `Failed to ${what}: the gateway returned no uuid.`);
      return { target: uuid, pending: ['unbound'] };
    }
    const path = encodeURIComponent(change.target);
    if (change.op === 'delete') {
      const what = `delete DNS host override \`${change.target}\``;
      this.saved(what, await this.req(what, 'POST', `${BASE}/del_host_override/${path}`), 'deleted');
      return { target: change.target, pending: ['unbound'] };
    }
    const what = `update DNS host override \`${change.target}\``;
    // set_host_override on an unknown uuid would create it: an update needs the record to exist.
    if ((await this.read(change.target)) === null) {
      throw new OpnSenseError('OPN500', `No DNS host override \`${change.target}\` on the gateway.`, { field: 'target', httpStatus: 404 });
    }
    this.saved(what, await this.req(what, 'POST', `${BASE}/set_host_override/${path}`, { host: toHost(change.body) }), 'saved');
    return { target: change.target, pending: ['unbound'] };
  }

  /** `api/unbound/service/reconfigure`: Unbound reloads its configuration. */
  async apply(): Promise<void> {
    const what = 'apply the DNS host overrides';
    const data = await this.a.call({ code: 'OPN200', what }, 'POST', '/api/unbound/service/reconfigure');
    if (!isRecord(data) || data.status !== 'ok') {
      throw new OpnSenseError('OPN200', `unbound/service/reconfigure answered ${JSON.stringify(data).slice(0, 200)}.`);
    }
  }
}
