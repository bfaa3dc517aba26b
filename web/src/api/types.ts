/** Names for the API shapes the pages use, taken from the generated `api.d.ts` (never written by hand). */
import type { components, paths } from './api';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: infer R;
}
  ? R extends { 200: infer A }
    ? Json<A>
    : R extends { 201: infer A }
      ? Json<A>
      : never
  : never;
type Item<L> = L extends { items: (infer I)[] } ? I : never;

export type User = components['schemas']['User'];
export type Group = components['schemas']['Group'];
export type Site = components['schemas']['Site'];
export type Role = components['schemas']['Role'];
export type RoleBinding = components['schemas']['RoleBinding'];
export type ApiToken = components['schemas']['ApiToken'];
export type AuditEntry = components['schemas']['AuditEntry'];
export type Permission = components['schemas']['Permission'];
export type Me = Ok<'/api/v1/auth/me', 'get'>;
export type PortalMe = Ok<'/api/v1/portal/me', 'get'>;
export type PortalGrantResult = Ok<'/api/v1/portal/grants/{knocId}', 'post'>;
export type Gateway = Item<Ok<'/api/v1/firewall/gateways', 'get'>>;
export type GatewayTest = Ok<'/api/v1/firewall/gateways/test', 'post'>;
export type Knoc = Item<Ok<'/api/v1/access/knocs', 'get'>>;
export type CreatedKnoc = Ok<'/api/v1/access/knocs', 'post'>;
export type KnocStatus = Ok<'/api/v1/access/knocs/{id}/status', 'get'>;
export type EdlFetch = Item<Ok<'/api/v1/access/knocs/{id}/fetches', 'get'>>;
export type Grant = Item<Ok<'/api/v1/access/grants', 'get'>>;
