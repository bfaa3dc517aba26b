/** Lists the pages share for names and pickers (each one cached under one key). */
import { useQuery } from '@tanstack/react-query';
import { api, must } from '../api/client';
import { LIVE } from './live';

export const keys = {
  users: ['users'] as const,
  groups: ['groups'] as const,
  sites: ['sites'] as const,
  roles: ['roles'] as const,
  bindings: ['role-bindings'] as const,
  gateways: ['gateways'] as const,
  knocs: ['knocs'] as const,
  grants: ['grants'] as const,
  tokens: ['tokens'] as const,
  permissions: ['permissions'] as const,
  audit: ['audit'] as const,
};

const page = { limit: 500 };

export const useUsers = (enabled = true) =>
  useQuery({ queryKey: keys.users, enabled, queryFn: () => must(api.GET('/api/v1/users', { params: { query: page } })) });
export const useGroups = (enabled = true) =>
  useQuery({ queryKey: keys.groups, enabled, queryFn: () => must(api.GET('/api/v1/groups', { params: { query: page } })) });
export const useSites = (enabled = true) =>
  useQuery({ queryKey: keys.sites, enabled, queryFn: () => must(api.GET('/api/v1/sites', { params: { query: page } })) });
export const useRoles = (enabled = true) =>
  useQuery({ queryKey: keys.roles, enabled, queryFn: () => must(api.GET('/api/v1/roles')) });
export const useGateways = (enabled = true) =>
  useQuery({
    queryKey: keys.gateways,
    enabled,
    queryFn: () => must(api.GET('/api/v1/firewall/gateways', { params: { query: page } })),
  });
export const useKnocs = (enabled = true) =>
  useQuery({
    queryKey: keys.knocs,
    enabled,
    ...LIVE,
    queryFn: () => must(api.GET('/api/v1/access/knocs', { params: { query: page } })),
  });

/** `{ value, label }` options for a Select from a list of named things. */
export function optionsOf<T extends { id: string }>(items: readonly T[] | undefined, label: (item: T) => string) {
  return (items ?? []).map((item) => ({ value: item.id, label: label(item) }));
}

export function nameOf<T extends { id: string }>(items: readonly T[] | undefined, id: string | null, label: (item: T) => string) {
  if (id === null) return '—';
  const found = items?.find((item) => item.id === id);
  return found ? label(found) : id.slice(0, 8);
}
