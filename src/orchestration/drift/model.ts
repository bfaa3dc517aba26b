/**
 * @module The drift model (docs/reference/freesdn-firewall-module.md §16, §28; docs/drift.md): drift types,
 * severities, and the `DriftSource` contract a resource family implements to take part in drift checks.
 *
 * A source says how to read its resources from a gateway's live view (behind one `read.*` capability flag), what
 * of a resource is compared (its projection, stored as the baseline), how expected and actual differ (findings,
 * each with its drift type and severity), and which live write restores the expected state (the reapply, staged
 * as a pending change). Firewall rules and aliases compare the device with a stored baseline
 * (src/orchestration/drift/sources.ts, ADR 0250); the canonical VLANs, DHCP and DNS of orchestration compare the
 * site's brain and limbs with the canonical state instead (`expectation`, src/orchestration/drift/canonical-sources.ts,
 * ADR 0275).
 */
import { createHash } from 'node:crypto';
import type { LiveGateway } from '../../adapters/live.ts';
import type { LiveObjectKind, LiveWrite } from '../../adapters/live-write.ts';
import type { Capability } from '../../adapters/registry.ts';
import type { ServiceContext } from '../../core/context.ts';
import type { Role } from '../topology-roles.ts';
import type { AuthorityMap } from '../topology.ts';

export const DRIFT_TYPES = [
  'resource_missing',
  'resource_modified',
  'resource_added',
  'suppression_violated',
  'tag_removed',
] as const;
export type DriftType = (typeof DRIFT_TYPES)[number];

export const DRIFT_SEVERITIES = ['critical', 'warning', 'info'] as const;
export type DriftSeverity = (typeof DRIFT_SEVERITIES)[number];

export const DRIFT_STATUSES = ['open', 'remediating', 'resolved'] as const;
export type DriftStatus = (typeof DRIFT_STATUSES)[number];

/** How an event was closed: by a person (`reapplied`, `accepted`, `ignored`) or by the device (`cleared`). */
export const DRIFT_RESOLUTIONS = ['reapplied', 'accepted', 'ignored', 'cleared'] as const;
export type DriftResolution = (typeof DRIFT_RESOLUTIONS)[number];

/** What a person asks for (§26.15: `reapply | accept | ignore`). */
export const RESOLVE_ACTIONS = ['reapply', 'accept', 'ignore'] as const;
export type ResolveAction = (typeof RESOLVE_ACTIONS)[number];

export const SUPPRESSION_MODES = ['silence', 'forbid'] as const;
export type SuppressionMode = (typeof SUPPRESSION_MODES)[number];

/** A resource in its comparable shape: identity on the device, display name, projection. */
export interface DriftResource {
  key: string;
  name: string;
  body: Record<string, unknown>;
}

/** One divergence a source found on one resource. */
export interface DriftFinding {
  resourceType: string;
  key: string;
  name: string;
  driftType: DriftType;
  severity: DriftSeverity;
  message: string;
  expected: Record<string, unknown> | null;
  actual: Record<string, unknown> | null;
  details: Record<string, unknown>;
}

/** An open event as a source needs it to build its reapply. */
export interface DriftEventRef {
  resourceKey: string;
  resourceName: string;
  driftType: DriftType;
  expected: Record<string, unknown> | null;
  actual: Record<string, unknown> | null;
}

/** A gateway's place in its site's role map, as a check sees it (null: in no role map). */
export interface Membership {
  role: Role;
  authorityMap: AuthorityMap;
}

/**
 * A source whose expectation is the site's canonical state (not a baseline taken from the device): it applies to
 * gateways of one role whose authority map gives it the resource, is compared from the first check on, and is
 * never moved by the device (accept is refused; the canonical state is changed through its own API).
 */
export interface CanonicalExpectation<C> {
  applies(membership: Membership): boolean;
  /** What the canonical state says the gateway must carry. */
  expected(context: C): DriftResource[];
}

export interface DriftSource<C> {
  /** The resource type named in events, baselines and suppressions. */
  readonly resourceType: string;
  /** The live reads the source needs; a vendor without one is skipped with the first missing flag's reason. */
  readonly readCapabilities: readonly Capability[];
  /** The pending-change kind its reapply writes (and whose applied changes move a baseline). */
  readonly writeKind: LiveObjectKind;
  /** Absent: the expectation is the stored baseline. */
  readonly expectation?: CanonicalExpectation<C>;
  /** Store facts a check needs beside the device (the knoc aliases of the gateway, the site's canonical state). */
  context(ctx: ServiceContext, gatewayId: string, siteId: string): Promise<C>;
  /**
   * Every resource of this type on the device, in device order. `context` may be completed with what only the
   * device knows (a VLAN's interface id, for the write that restores its DHCP scope).
   */
  read(live: LiveGateway, context: C): Promise<DriftResource[]>;
  /** What of an actual resource becomes its baseline (a knoc alias keeps only its manual entries). */
  baselineOf(actual: DriftResource, context: C): DriftResource;
  /** The findings of one resource: expected (baseline) and actual (device), either absent. */
  compare(expected: DriftResource | null, actual: DriftResource | null, context: C): DriftFinding[];
  /**
   * The write that restores what the baseline says. `baseline` and `actual` are the whole lists (a re-created rule
   * goes back in front of the baseline rule that followed it). Throws a `ConflictError` naming why when a neutral
   * write cannot restore it.
   */
  remedy(event: DriftEventRef, baseline: readonly DriftResource[], actual: readonly DriftResource[], context: C): LiveWrite;
}

/** JSON text with object keys sorted, so equal values compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export const sameValue = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

/** The hash an ignored drift is remembered by (the device showing the same thing again is not news). */
export function hashOf(actual: Record<string, unknown> | null): string {
  return createHash('sha256').update(actual === null ? 'absent' : canonicalJson(actual)).digest('hex');
}

/** A suppression glob (`*` any run, `?` one character) as an anchored, case-sensitive test. */
export function globMatcher(pattern: string): (value: string) => boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  const regex = new RegExp(`^${source}$`, 's');
  return (value) => regex.test(value);
}
