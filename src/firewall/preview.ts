/**
 * @module The semantic preview of a staged change (issue 9 item 5): on the gateway's live configuration (four live
 * reads built into the policy engine's model), the flows the change newly passes and newly blocks, as exact regions
 * with the deciding rules before and after, and the lock-out check of Portcullis's own path to the gateway's API.
 * A change whose preview says the path is `cut` is refused (`LockoutError`, 409 `PC_ERR_LOCKOUT`) unless the caller
 * overrides it with a reason. Decisions: docs/adr/0170-semantic-preview-of-a-live-change.md (model and assumptions),
 * docs/adr/0171-management-path-and-lockout-refusal.md (the path and the refusal).
 */
import { connect } from 'node:net';
import type { LiveGateway } from '../adapters/live.ts';
import type { LiveWrite } from '../adapters/live-write.ts';
import { LockoutError, ValidationError } from '../errors.ts';
import { cidrContains, isIp, parseCidr, parseIp } from '../net/ip.ts';
import { type DiffRegion, diffRulesets } from '../policy/diff/index.ts';
import type { RuleRef } from '../policy/evaluate.ts';
import { generateRuleset } from '../policy/generate/index.ts';
import { applyLiveChange, type LiveChange } from '../policy/import/live-change.ts';
import {
  buildPolicyFromLive,
  type LiveInterfaceInput,
  type LiveSnapshot,
  type LiveSystemSettings,
} from '../policy/import/live.ts';
import { checkLockout, type LockoutCheck, type ManagementPath } from '../policy/lockout.ts';
import { type ExposureRegion, exposureWidening } from '../policy/exposure.ts';
import type { PfRuleset } from '../policy/model.ts';
import { PolicyInputError, canChangeVerdict } from '../policy/warnings.ts';

export type { LiveSnapshot, LiveSystemSettings } from '../policy/import/live.ts';
export type { ManagementPath } from '../policy/lockout.ts';

/** Regions listed per change kind; more are counted in `counts` and flagged `truncated`. */
const PREVIEW_REGION_LIMIT = 200;

/** Warnings listed (in the engine's order); `warning_count` has them all. */
const PREVIEW_WARNING_LIMIT = 100;

/** Version of the stored JSON shape. */
const PREVIEW_VERSION = 1;

/** Reads what the engine needs (rules, NAT, aliases, interfaces) through the gateway's live view, in parallel. */
export async function readLiveSnapshot(live: LiveGateway): Promise<LiveSnapshot> {
  const [rules, nat, aliases, interfaces] = await Promise.all([
    live.firewallRules(),
    live.natRules(),
    live.aliases(),
    live.interfaces(),
  ]);
  return { rules: rules.items, nat, aliases: aliases.items, interfaces: interfaces.items };
}

// -------------------------------------------------------------------------------------------------------------
// The management path

/** What the caller knows of Portcullis's path to the gateway's API. */
export interface ManagementPathInput {
  /** The API's URL as stored on the gateway row (`https://192.168.1.1:443`). */
  gatewayUrl: string;
  /** Portcullis's address as the gateway sees it; null when not known (the lock-out check is then `unknown`). */
  source: string | null;
  /** The gateway interface the connection arrives on; absent = derived from `source` (below). */
  interface?: string;
}

/**
 * The path, or why it cannot be placed. The API address and port are the gateway URL's host (an IP literal; a DNS
 * name is not resolved here) and port (default 443 for https, 80 for http). The interface is the one given, else
 * the interface whose current subnet holds `source`, else the only interface with a gateway (the default route's
 * side, where a remote Portcullis arrives).
 */
export function managementPath(
  input: ManagementPathInput,
  snapshot: { interfaces: ReadonlyArray<Pick<LiveInterfaceInput, 'id' | 'enabled' | 'ipv4' | 'ipv6' | 'gateway'>> },
): { path: ManagementPath; reason: null } | { path: null; reason: string } {
  let url: URL;
  try {
    url = new URL(input.gatewayUrl);
  } catch {
    return { path: null, reason: `the gateway URL ${JSON.stringify(input.gatewayUrl)} is not a URL` };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!isIp(host)) {
    const reason = `the gateway URL names a host (${host}), not an address; the API address is not known`;
    return { path: null, reason };
  }
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  if (input.source === null) return { path: null, reason: "Portcullis's address as the gateway sees it is not known" };
  const source = parseIp(input.source);
  if (source === null) {
    return { path: null, reason: `the management source ${JSON.stringify(input.source)} is not an IP address` };
  }
  let iface = input.interface;
  if (iface === undefined) {
    const enabled = snapshot.interfaces.filter((i) => i.enabled);
    const holding = enabled.filter((i) =>
      [i.ipv4, i.ipv6].some((text) => {
        const cidr = text === null ? null : parseCidr(text);
        return cidr !== null && cidrContains(cidr, source);
      }),
    );
    const withGateway = enabled.filter((i) => i.gateway !== null && i.gateway !== '');
    iface = holding[0]?.id ?? (withGateway.length === 1 ? withGateway[0]?.id : undefined);
    if (iface === undefined) {
      const reason = `no interface's subnet holds ${input.source} and no single interface has a gateway`;
      return { path: null, reason: `${reason}; the arrival interface is not known` };
    }
  }
  return { path: { interface: iface, source: input.source, address: host, port }, reason: null };
}

/**
 * Portcullis's own address toward the gateway: the local address of a TCP connection to the API (closed at once).
 * That is the address the gateway sees when no NAT sits between them; behind NAT the caller must know the
 * translated address instead. Null when the connection fails within `timeoutMs`.
 */
export async function localAddressToward(gatewayUrl: string, timeoutMs = 3000): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(gatewayUrl);
  } catch {
    return null;
  }
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A name would need resolving, and the path needs the API's address anyway (managementPath refuses names).
  if (!isIp(host)) return null;
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (address: string | null) => {
      socket.destroy();
      resolve(address);
    };
    socket.once('connect', () => done(socket.localAddress?.replace(/^::ffff:/, '') ?? null));
    socket.once('timeout', () => done(null));
    socket.once('error', () => done(null));
  });
}

// -------------------------------------------------------------------------------------------------------------
// The preview

interface SideJson {
  verdict: string;
  rule: RuleJson | null;
  certain: boolean;
}

interface RuleJson {
  kind: 'user' | 'system';
  tab: string;
  position: number;
  tracker: string | null;
  description: string;
  action: string;
}

/** One region in the stored shape (snake_case of the engine's `DiffRegion`). */
export interface PreviewRegion {
  interface: string;
  direction: 'in' | 'out';
  family: 'inet' | 'inet6';
  /** null = every protocol; `other` = every protocol no rule names. */
  protocols: string[] | null;
  /** null = any address / port. Addresses are CIDRs or `first-last` ranges, ports `80` or `1000-2000`. */
  source: string[] | null;
  source_ports: string[] | null;
  destination: string[] | null;
  destination_ports: string[] | null;
  tcp_flags: { text: string; values: number[] } | null;
  icmp_types: number[] | null;
  before: SideJson;
  after: SideJson;
}

export interface PreviewLockout {
  /** `passes` | `cut` | `blocked` | `unknown` (docs/adr/0171-management-path-and-lockout-refusal.md). */
  status: LockoutCheck['status'];
  /** The path checked; null when it could not be placed (`reason` says why; status `unknown`). */
  path: ManagementPath | null;
  packet: string | null;
  before: { verdict: string; rule: RuleJson | null; explanation: string } | null;
  after: { verdict: string; rule: RuleJson | null; explanation: string } | null;
  reason: string | null;
  /** What the check did not count on (an anti-lockout rule the live read cannot confirm). */
  assumptions: string[];
}

/** The stored preview of one change (`pending_changes.preview`). */
export interface ChangePreview {
  version: number;
  newly_pass: PreviewRegion[];
  newly_block: PreviewRegion[];
  /** Block ⇄ reject: the packet is dropped either way, the answer to the sender changes. */
  reply_changed: PreviewRegion[];
  /** Regions whose verdict may change depending on run-time contents (dynamic aliases, DHCP addresses, schedules). */
  unknown: PreviewRegion[];
  counts: { newly_pass: number; newly_block: number; reply_changed: number; unknown: number };
  /** True when a list holds only the first `PREVIEW_REGION_LIMIT` regions of its kind. */
  truncated: boolean;
  changed_rules: { before: RuleJson[]; after: RuleJson[] };
  lockout: PreviewLockout;
  /** What the live read lacked or the engine could not model that can change these answers (the first 100). */
  warnings: Array<{ code: string; severity: string; message: string }>;
  warning_count: number;
  /**
   * The watched aliases (a knoc's) whose exposure this change widens: what an address on the alias reaches after
   * the change and did not before ("this change widens what knoc ssh-admins opens"); empty when none widens.
   */
  widens: Array<{ alias: string; label: string; regions: ExposureRegion[]; region_count: number }>;
}

export interface PreviewOptions {
  management: ManagementPathInput;
  /** System settings known for this gateway; the rest are the vendor's factory defaults (POL046 warnings). */
  settings?: Partial<LiveSystemSettings>;
  /** Aliases whose exposure a change must not widen unnoticed (the knocs of the gateway), with a label each. */
  watch?: ReadonlyArray<{ alias: string; label: string }>;
}

const refJson = (rule: RuleRef): RuleJson => ({
  kind: rule.kind,
  tab: rule.tab,
  position: rule.position,
  tracker: rule.tracker,
  description: rule.descr,
  action: rule.action,
});
const ruleJson = (rule: RuleRef | null): RuleJson | null => (rule === null ? null : refJson(rule));

function regionJson(region: DiffRegion): PreviewRegion {
  const side = (s: DiffRegion['before']): SideJson => ({
    verdict: s.verdict,
    rule: ruleJson(s.rule),
    certain: s.certain,
  });
  return {
    interface: region.interface,
    direction: region.direction,
    family: region.family,
    protocols: region.protocols,
    source: region.source,
    source_ports: region.sourcePorts,
    destination: region.destination,
    destination_ports: region.destinationPorts,
    tcp_flags: region.tcpFlags,
    icmp_types: region.icmpTypes,
    before: side(region.before),
    after: side(region.after),
  };
}

/** One side's generated ruleset; the builder's warnings come first in its `warnings`. */
function rulesetOf(snapshot: LiveSnapshot, settings: Partial<LiveSystemSettings>): PfRuleset {
  const { config, warnings } = buildPolicyFromLive(snapshot, settings);
  return generateRuleset(config, { importWarnings: warnings });
}

/** The write kinds that can change what the filter passes. */
const POLICY_KINDS = ['firewall_rule', 'port_forward', 'source_nat', 'alias'] as const;
type PolicyKind = (typeof POLICY_KINDS)[number];
const isPolicyKind = (kind: string): kind is PolicyKind => (POLICY_KINDS as readonly string[]).includes(kind);

/** Narrows a live write to the kinds a preview covers. */
function policyChange(change: LiveWrite): LiveChange | null {
  if (change.op === 'delete') {
    return isPolicyKind(change.kind) ? { kind: change.kind, op: 'delete', target: change.target } : null;
  }
  if (change.op === 'toggle') {
    const { target, body } = change;
    if (change.kind === 'firewall_rule') return { kind: 'firewall_rule', op: 'toggle', target, body };
    if (change.kind === 'port_forward' || change.kind === 'source_nat') {
      return { kind: change.kind, op: 'toggle', target, body };
    }
    return null;
  }
  switch (change.kind) {
    case 'firewall_rule':
    case 'alias':
    case 'port_forward':
    case 'source_nat':
      return change;
    default:
      return null;
  }
}

/**
 * The semantic preview of `change` on `snapshot` (read with `readLiveSnapshot`), or null for a write that cannot
 * change what the filter passes (routes, DNS, DHCP mappings, services, power). Throws `ValidationError` (field
 * `target` or `body.name`) when the change names an object the device does not hold, or creates a taken alias name.
 */
export function previewChange(
  snapshot: LiveSnapshot,
  change: LiveWrite,
  options: PreviewOptions,
): ChangePreview | null {
  const policy = policyChange(change);
  if (policy === null) return null;
  let after: LiveSnapshot;
  try {
    after = applyLiveChange(snapshot, policy);
  } catch (err) {
    if (err instanceof PolicyInputError) throw new ValidationError(err.field, err.message);
    throw err;
  }
  const settings = options.settings ?? {};
  const before = rulesetOf(snapshot, settings);
  const afterSet = rulesetOf(after, settings);
  const diff = diffRulesets(before, afterSet);
  const byChange = (kind: DiffRegion['change']) => diff.regions.filter((r) => r.change === kind);
  const lists = {
    newly_pass: byChange('newly-pass'),
    newly_block: byChange('newly-block'),
    reply_changed: byChange('reply-changed'),
    unknown: byChange('unknown'),
  };
  const warnings = new Map<string, { code: string; severity: string; message: string }>();
  for (const w of [...afterSet.warnings, ...before.warnings]) {
    if (!canChangeVerdict(w)) continue;
    warnings.set(`${w.code}|${w.message}`, { code: w.code, severity: w.severity, message: w.message });
  }
  return {
    version: PREVIEW_VERSION,
    newly_pass: lists.newly_pass.slice(0, PREVIEW_REGION_LIMIT).map(regionJson),
    newly_block: lists.newly_block.slice(0, PREVIEW_REGION_LIMIT).map(regionJson),
    reply_changed: lists.reply_changed.slice(0, PREVIEW_REGION_LIMIT).map(regionJson),
    unknown: lists.unknown.slice(0, PREVIEW_REGION_LIMIT).map(regionJson),
    counts: {
      newly_pass: lists.newly_pass.length,
      newly_block: lists.newly_block.length,
      reply_changed: lists.reply_changed.length,
      unknown: lists.unknown.length,
    },
    truncated: Object.values(lists).some((list) => list.length > PREVIEW_REGION_LIMIT),
    changed_rules: {
      before: diff.changedRules.before.map(refJson),
      after: diff.changedRules.after.map(refJson),
    },
    lockout: lockout(snapshot, options, before, afterSet),
    warnings: [...warnings.values()].slice(0, PREVIEW_WARNING_LIMIT),
    warning_count: warnings.size,
    widens: widenings(snapshot, after, settings, options.watch ?? []),
  };
}

/** The watched aliases whose exposure grows from `before` to `after` (docs/policy.md "Exposure of an alias"). */
function widenings(
  before: LiveSnapshot,
  after: LiveSnapshot,
  settings: Partial<LiveSystemSettings>,
  watch: ReadonlyArray<{ alias: string; label: string }>,
): ChangePreview['widens'] {
  const held = (snap: LiveSnapshot, alias: string) => snap.aliases.some((entry) => entry.name === alias);
  const present = watch.filter(({ alias }) => held(before, alias) && held(after, alias));
  if (present.length === 0) return [];
  const beforeConfig = buildPolicyFromLive(before, settings).config;
  const afterConfig = buildPolicyFromLive(after, settings).config;
  const out: ChangePreview['widens'] = [];
  for (const { alias, label } of present) {
    const widening = exposureWidening(beforeConfig, afterConfig, alias);
    if (!widening.widens) continue;
    out.push({ alias, label, regions: widening.regions.slice(0, PREVIEW_REGION_LIMIT), region_count: widening.regions.length });
  }
  return out;
}

/**
 * The gateway's ruleset once `changes` are written in order on `snapshot` (what the policy-test gate judges).
 * Writes that cannot change the filter are skipped; a change naming a missing object is a `ValidationError`.
 */
export function rulesetAfter(
  snapshot: LiveSnapshot,
  changes: readonly LiveWrite[],
  settings: Partial<LiveSystemSettings> = {},
): PfRuleset {
  let after = snapshot;
  for (const change of changes) {
    const policy = policyChange(change);
    if (policy === null) continue;
    try {
      after = applyLiveChange(after, policy);
    } catch (err) {
      if (err instanceof PolicyInputError) throw new ValidationError(err.field, err.message);
      throw err;
    }
  }
  return rulesetOf(after, settings);
}

/**
 * The whole preview for a gateway: reads the live snapshot through `live` and previews `change` on it. Without a
 * `source`, Portcullis's own address toward the gateway is taken (`localAddressToward`: right when no NAT sits
 * between them). A write that cannot change the filter answers null without contacting the device.
 */
export async function previewLiveChange(
  live: LiveGateway,
  change: LiveWrite,
  options: {
    gatewayUrl: string;
    source?: string | null;
    interface?: string;
    settings?: Partial<LiveSystemSettings>;
    watch?: PreviewOptions['watch'];
  },
): Promise<ChangePreview | null> {
  if (policyChange(change) === null) return null;
  const [snapshot, source] = await Promise.all([
    readLiveSnapshot(live),
    options.source === undefined ? localAddressToward(options.gatewayUrl) : Promise.resolve(options.source),
  ]);
  const management: ManagementPathInput = { gatewayUrl: options.gatewayUrl, source };
  if (options.interface !== undefined) management.interface = options.interface;
  return previewChange(snapshot, change, {
    management,
    ...(options.settings !== undefined ? { settings: options.settings } : {}),
    ...(options.watch !== undefined ? { watch: options.watch } : {}),
  });
}

/**
 * The lock-out check. A refusal must not rest on a guess: when the anti-lockout setting was not given, the path
 * is checked on rulesets without the anti-lockout rule, so a path that only the assumed rule would keep open is
 * reported `cut` (docs/adr/0171-management-path-and-lockout-refusal.md).
 */
function lockout(
  snapshot: LiveSnapshot,
  options: PreviewOptions,
  assumedBefore: PfRuleset,
  assumedAfter: PfRuleset,
): PreviewLockout {
  const placed = managementPath(options.management, snapshot);
  if (placed.path === null) {
    const nothing = { path: null, packet: null, before: null, after: null };
    return { status: 'unknown', ...nothing, reason: placed.reason, assumptions: [] };
  }
  const unconfirmed = options.settings?.anti_lockout === undefined;
  const beforeSet = unconfirmed ? withoutAntiLockout(assumedBefore) : assumedBefore;
  const afterSet = unconfirmed ? withoutAntiLockout(assumedAfter) : assumedAfter;
  const check = checkLockout(beforeSet, afterSet, placed.path);
  const side = (s: LockoutCheck['before']) => ({
    verdict: s.verdict,
    rule: ruleJson(s.rule),
    explanation: s.explanation,
  });
  return {
    status: check.status,
    path: placed.path,
    packet: check.packet,
    before: side(check.before),
    after: side(check.after),
    reason: null,
    assumptions: unconfirmed
      ? [
          'the anti-lockout rule is not counted: the live read cannot confirm the setting ' +
            '(give settings.anti_lockout when known)',
        ]
      : [],
  };
}

/** The ruleset as the device would load it with the anti-lockout setting off: the same rules without that section. */
function withoutAntiLockout(ruleset: PfRuleset): PfRuleset {
  const rules = ruleset.rules
    .filter((rule) => rule.origin.systemKey !== 'anti-lockout')
    .map((rule, index) => ({ ...rule, index }));
  return { ...ruleset, rules, notes: [] };
}

/**
 * Refuses a change whose preview cuts the management path, unless `override` is set with a reason (the caller
 * audits the override). Throws `LockoutError` (409 `PC_ERR_LOCKOUT`, field `override_lockout`), or
 * `ValidationError` (field `override_reason`) for an override without a reason.
 */
export function assertNoLockout(
  preview: ChangePreview | null,
  override: { override_lockout: boolean; override_reason: string | null },
): void {
  if (override.override_lockout && (override.override_reason ?? '').trim() === '') {
    throw new ValidationError('override_reason', 'override_reason is required when override_lockout is true');
  }
  if (preview === null || preview.lockout.status !== 'cut' || override.override_lockout) return;
  const path = preview.lockout.path as ManagementPath;
  const rule = preview.lockout.after?.rule;
  const where = `${path.source} -> ${path.address}:${path.port} in on ${path.interface}`;
  const why = rule ? `decided by ${rule.kind} rule "${rule.description}" on ${rule.tab}` : 'no rule passes it any more';
  throw new LockoutError(
    `the change cuts Portcullis's path to the gateway's API (${where}): ${why}; ` +
      'send override_lockout=true with override_reason to apply it anyway',
  );
}
