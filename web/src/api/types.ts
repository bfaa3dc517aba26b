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
export type AccessRequest = Item<Ok<'/api/v1/access/requests', 'get'>>;
type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: infer B }
  ? Json<NonNullable<B>>
  : never;

export type Vendor = Item<Ok<'/api/v1/firewall/vendors', 'get'>>;
export type FirewallRule = Item<Ok<'/api/v1/firewall/rules', 'get'>>;
export type DriftEvent = Item<Ok<'/api/v1/firewall/drift/events', 'get'>>;
export type DriftSuppression = Item<Ok<'/api/v1/firewall/drift/suppressions', 'get'>>;
export type DriftCheck = Ok<'/api/v1/firewall/drift/check/{siteId}', 'post'>;
export type DriftResolved = Ok<'/api/v1/firewall/drift/events/{id}/resolve', 'post'>;
export type DriftResourceType = Body<'/api/v1/firewall/drift/suppressions', 'post'>['resource_type'];
export type NatRule = Item<Ok<'/api/v1/firewall/nat', 'get'>>;
export type VpnTunnel = Item<Ok<'/api/v1/firewall/vpn', 'get'>>;
export type VpnStats = Ok<'/api/v1/firewall/vpn/stats', 'get'>;
export type IdsAlert = Item<Ok<'/api/v1/firewall/ids/alerts', 'get'>>;
export type IdsStats = Ok<'/api/v1/firewall/ids/alerts/stats', 'get'>;
export type TrafficLog = Item<Ok<'/api/v1/firewall/logs', 'get'>>;
export type FirewallSettings = Ok<'/api/v1/firewall/settings', 'get'>;
export type Webhook = Item<Ok<'/api/v1/webhooks', 'get'>>;
export type CreatedWebhook = Ok<'/api/v1/webhooks', 'post'>;
export type WebhookDelivery = Item<Ok<'/api/v1/webhooks/{id}/deliveries', 'get'>>;
export type EventType = NonNullable<Body<'/api/v1/webhooks', 'post'>['event_types']>[number];
export type PolicyDiff = Ok<'/api/v1/policy/diff', 'post'>;
export type Topology = Ok<'/api/v1/firewall/topology/{site_id}', 'get'>;
export type TopologyCheck = Ok<'/api/v1/firewall/topology/{site_id}/validate', 'post'>;
export type CanonicalVlan = Item<Ok<'/api/v1/firewall/vlans', 'get'>>;
export type CanonicalVlanDetail = Ok<'/api/v1/firewall/vlans/{id}', 'get'>;
export type DhcpScope = Item<Ok<'/api/v1/firewall/dhcp/scopes', 'get'>>;
export type DhcpReservation = Item<Ok<'/api/v1/firewall/dhcp/reservations', 'get'>>;
export type DnsRecord = Item<Ok<'/api/v1/firewall/dns/records', 'get'>>;
export type VlanTemplate = Item<Ok<'/api/v1/firewall/templates', 'get'>>;
export type IdentityProvider = Item<Ok<'/api/v1/identity-providers', 'get'>>;
export type SignInOptions = Ok<'/api/v1/auth/providers', 'get'>;
export type ImportSession = Ok<'/api/v1/firewall/import/{id}', 'get'>;
export type ImportStep = ImportSession['steps'][number];
export type Alignment = Ok<'/api/v1/firewall/reconciliation/{site_id}/alignment', 'get'>;
export type AlignmentItem = Alignment['items'][number];
export type ReconciliationImport = Ok<'/api/v1/firewall/reconciliation/{site_id}/import', 'post'>;
export type LimbDistribution = Ok<'/api/v1/firewall/reconciliation/{site_id}/distribute', 'post'>;
export type DistributionSummary = Item<Ok<'/api/v1/firewall/distribution', 'get'>>;
export type DistributionDetail = Ok<'/api/v1/firewall/distribution/{id}', 'get'>;
export type DistributionStep = DistributionDetail['steps'][number];
