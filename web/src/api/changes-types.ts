/**
 * Names for the shapes of the pending-change, sync and policy pages, taken from the generated `api.d.ts` (kept
 * apart from types.ts so the pages of different branches add names without touching the same lines).
 */
import type { paths } from './api';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: infer A }
    ? Json<A>
    : R extends { 201: infer A }
      ? Json<A>
      : never
  : never;
type Item<L> = L extends { items: (infer I)[] } ? I : never;

export type PendingChange = Item<Ok<'/api/v1/firewall/pending', 'get'>>;
export type PendingStatus = PendingChange['status'];
export type GatewaySummary = Ok<'/api/v1/firewall/gateways/summary', 'get'>;
export type SyncReport = Ok<'/api/v1/firewall/gateways/{id}/sync', 'post'>;
export type TraceResult = Ok<'/api/v1/policy/trace', 'post'>;
export type PolicyTestReport = Ok<'/api/v1/policy/test', 'post'>;
export type StoredPolicyTests = Ok<'/api/v1/firewall/gateways/{id}/policy-tests', 'get'>;
export type LintReport = Ok<'/api/v1/policy/lint', 'post'>;
