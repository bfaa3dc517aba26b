/**
 * @module pfRest privilege names (docs/reference/pfrest-contract.md §4): the endpoint URL with `/` and `_` turned into `-`, the
 * leading `-` dropped, plus `-<method>`. The adapter names a missing privilege with it.
 */

/** `privilegeFor('/api/v2/firewall/alias', 'PATCH')` → `api-v2-firewall-alias-patch`. */
export function privilegeFor(endpointPath: string, method: string): string {
  const path = endpointPath.split('?')[0]?.replace(/\/+$/, '') ?? '';
  return `${path.replace(/[/_]/g, '-').replace(/^-+/, '')}-${method.toLowerCase()}`;
}

/** The privileges the adapter needs, by operation (least privilege; the setup guide lists them). */
export const REQUIRED_PRIVILEGES = {
  version: ['api-v2-system-version-get'],
  getAlias: ['api-v2-firewall-aliases-get'],
  createAlias: ['api-v2-firewall-alias-post'],
  setAliasEntries: ['api-v2-firewall-aliases-get', 'api-v2-firewall-alias-patch'],
  apply: ['api-v2-firewall-apply-post', 'api-v2-firewall-apply-get'],
  killStates: ['api-v2-firewall-states-delete'],
  listRules: ['api-v2-firewall-rules-get'],
  listInterfaces: ['api-v2-interfaces-get'],
} as const;
