/**
 * @module Sets up an access scenario through the public API of a running server (no store shortcuts): a site,
 * a pfSense gateway pointing at a pfRest emulator (TLS pinned by its fingerprint), a person with a password and
 * an API token, and knocs assigned to them.
 */
import type { PfRestEmulator } from '../../../src/emulators/pfrest/index.ts';
import { type ApiCaller, caller, signIn } from './server-process.ts';

export interface Person {
  id: string;
  username: string;
  password: string;
  token: string;
}

export interface KnocSpec {
  name: string;
  alias_name: string;
  grant_ttl_seconds?: number;
  max_ttl_seconds?: number;
  allowed_sources?: string[];
  denied_sources?: string[];
  kill_states_on_revoke?: boolean;
  users?: string[];
}

export interface AccessWorld {
  admin: ApiCaller;
  siteId: string;
  gatewayId: string;
  person(username: string): Promise<Person>;
  knoc(spec: KnocSpec): Promise<{ id: string; name: string }>;
}

export async function accessWorld(
  baseUrl: string,
  adminToken: string,
  emulator: Pick<PfRestEmulator, 'url' | 'apiKey' | 'fingerprint'>,
  tag = `${Date.now().toString(36)}`,
): Promise<AccessWorld> {
  const admin = caller(baseUrl, { token: adminToken });
  const site = await admin.call<{ id: string }>('POST', '/api/v1/sites', { name: `e2e-${tag}` });
  const gateway = await admin.call<{ id: string }>('POST', '/api/v1/firewall/gateways', {
    name: `emulated-${tag}`,
    vendor: 'pfsense',
    url: emulator.url,
    api_key: emulator.apiKey,
    fingerprint_sha256: emulator.fingerprint,
    site_id: site.id,
  });
  return {
    admin,
    siteId: site.id,
    gatewayId: gateway.id,
    async person(username) {
      const password = `${username}-e2e-password-123`;
      const user = await admin.call<{ id: string }>('POST', '/api/v1/users', { username, password });
      const session = await signIn(baseUrl, username, password);
      const { token } = await caller(baseUrl, session).call<{ token: string }>('POST', '/api/v1/auth/tokens', {
        name: `${username}-knock`,
      });
      return { id: user.id, username, password, token };
    },
    async knoc(spec) {
      return admin.call<{ id: string; name: string }>('POST', '/api/v1/access/knocs', {
        gateway_id: gateway.id,
        mode: 'active',
        create_alias_if_missing: true,
        grant_ttl_seconds: 3600,
        max_ttl_seconds: 86_400,
        allowed_sources: [],
        denied_sources: [],
        kill_states_on_revoke: true,
        users: [],
        groups: [],
        site_id: site.id,
        ...spec,
      });
    },
  };
}

/** The addresses in the emulator's live (applied) pf table of `alias`. */
export function appliedAddresses(emulator: PfRestEmulator, alias: string): string[] {
  return emulator.state().tables[alias] ?? [];
}

export interface GrantRow {
  id: string;
  knoc_id: string;
  user_id: string | null;
  ip: string;
  expires_at: string;
  ended_at: string | null;
  end_reason: string | null;
  sync_state: string;
}

/** Every grant matching `query` (e.g. `knoc_id=<id>`), all pages. */
export async function listGrants(admin: ApiCaller, query: string): Promise<GrantRow[]> {
  const rows: GrantRow[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await admin.call<{ items: GrantRow[] }>('GET', `/api/v1/access/grants?${query}&limit=500&offset=${offset}`);
    rows.push(...page.items);
    if (page.items.length < 500) return rows;
  }
}

export interface KnocStatus {
  desired_count: number;
  device_count: number;
  last_sync_at: string | null;
  last_apply_at: string | null;
  pending: number | boolean;
  error: { code: string; message: string; since: string } | null;
}

export function knocStatus(admin: ApiCaller, knocId: string): Promise<KnocStatus> {
  return admin.call<KnocStatus>('GET', `/api/v1/access/knocs/${knocId}/status`);
}
