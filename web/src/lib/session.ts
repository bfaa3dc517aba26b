/**
 * Who is signed in: `GET /api/v1/auth/me` (401 → nobody). Its answer also restores the in-memory CSRF token
 * after a reload. Permission checks mirror the server's (`code → "all" | site ids`); the server still decides.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, must, setCsrfToken } from '../api/client';
import { isProblem } from '../api/problem';
import type { Me } from '../api/types';

export const meKey = ['me'] as const;

export async function fetchMe(): Promise<Me | null> {
  try {
    const me = await must(api.GET('/api/v1/auth/me'));
    setCsrfToken(me.csrf_token ?? null);
    return me;
  } catch (err) {
    if (isProblem(err) && err.status === 401) {
      setCsrfToken(null);
      return null;
    }
    throw err;
  }
}

export function useMe() {
  return useQuery({ queryKey: meKey, queryFn: fetchMe, staleTime: 60_000, retry: false });
}

/** Whether `me` holds `code` (on any site, or on `siteId` when given). */
export function can(me: Me | null | undefined, code: string, siteId?: string): boolean {
  const scope = me?.permissions[code];
  if (scope === undefined) return false;
  if (scope === 'all' || siteId === undefined) return true;
  return scope.includes(siteId);
}

/** After sign-in: keep the CSRF token in memory and re-read who we are. */
export function useSignedIn() {
  const client = useQueryClient();
  return async (csrfToken: string) => {
    setCsrfToken(csrfToken);
    await client.invalidateQueries();
    await client.refetchQueries({ queryKey: meKey });
  };
}

/** Sign out through the portal (ends this session's grants, as the API does), then forget everything. */
export function useSignOut() {
  const client = useQueryClient();
  return async () => {
    await must(api.POST('/api/v1/portal/logout')).catch(() => undefined);
    setCsrfToken(null);
    client.clear();
    client.setQueryData(meKey, null);
  };
}
