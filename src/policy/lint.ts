/**
 * @module Policy lint over the generated pf ruleset (after alias expansion): rules that never decide a packet
 * (shadowed / redundant), reject on WAN, non-quick floating rules that override pfSense's non-quick defaults,
 * rules left out for a missing alias, disabled rules. Each finding has a stable code (`LINT_CATALOG`), a severity,
 * the rules involved and a human "why". Pure and deterministic; no I/O.
 *
 * Semantics (docs/adr/0080-lint-coverage.md): pf decides with the first matching quick rule, else the last
 * matching rule (docs/reference/pf-semantics.md §2.1). So a quick rule R never decides when an EARLIER quick rule matches every
 * packet R could match; a non-quick rule never decides when ANY quick rule or a LATER non-quick rule does. The
 * relation is computed per (leaf interface, direction, family) cell, exactly on interval sets; dynamic contents
 * (URL tables, FQDNs, DHCP addresses), schedules, tags and unmodelled options never yield a claim, only "cannot
 * tell" (docs/adr/0081-lint-dynamic-aliases.md). A GUI rule (one tab position: its inet46 halves and list
 * expansions) is the unit of a finding. The other checks: docs/adr/0083-lint-policy-checks.md.
 */
import { IntervalStabber } from './lint/intervals.ts';
import { Cover, certainlyOverlap, covers, type RuleSpace, SpaceBuilder, subjectKey } from './lint/space.ts';
import type { PfRule, PfRuleset, PolicyConfig, PolicyWarning } from './model.ts';
import { PROTO_ICMP, PROTO_ICMP6, PROTO_TCP } from './packet.ts';

/** Severity of a lint finding; any `error` makes `portcullis policy lint` exit 1 (docs/policy-lint.md). */
type LintSeverity = 'error' | 'warning' | 'info';

/** Every finding code with its kind, severity and meaning. Codes are never reused. */
export const LINT_CATALOG = {
  LINT001: {
    kind: 'shadowed',
    severity: 'error',
    meaning:
      'rule never decides a packet: another rule with a different action decides every packet it matches',
  },
  LINT002: {
    kind: 'redundant',
    severity: 'warning',
    meaning: 'rule never decides a packet: another rule with the same action decides every packet it matches',
  },
  LINT003: {
    kind: 'possibly-shadowed',
    severity: 'info',
    meaning:
      'rule may never decide a packet; cannot tell because it depends on dynamic contents or conditions',
  },
  LINT004: {
    kind: 'partially-shadowed',
    severity: 'info',
    meaning: 'rule never decides a packet on some of its interfaces, directions or families',
  },
  LINT005: {
    kind: 'never-matches',
    severity: 'warning',
    meaning: 'rule can match no packet (e.g. an inet rule whose alias holds only IPv6 entries)',
  },
  LINT010: {
    kind: 'reject-on-wan',
    severity: 'warning',
    meaning: 'reject rule on a WAN-type interface answers every probe from outside',
  },
  LINT011: {
    kind: 'floating-overrides-default',
    severity: 'warning',
    meaning:
      'non-quick floating rule overrides a non-quick pfSense default (default deny, antispoof, let-out)',
  },
  LINT020: {
    kind: 'missing-alias',
    severity: 'error',
    meaning:
      'rule refers to an alias that does not exist or cannot be used there; pfSense leaves the rule out',
  },
  LINT030: { kind: 'disabled-rule', severity: 'info', meaning: 'rule is disabled; it is not in the ruleset' },
} as const satisfies Record<string, { kind: string; severity: LintSeverity; meaning: string }>;

type LintCode = keyof typeof LINT_CATALOG;
type LintKind = (typeof LINT_CATALOG)[LintCode]['kind'];

/** A rule named by a finding, as a person finds it in the GUI. */
interface LintRuleRef {
  kind: 'user' | 'system';
  tab: string;
  position: number;
  tracker: string | null;
  descr: string;
  /** Index of its (first) rule in the generated ruleset; null when the rule is not in it (disabled, left out). */
  index: number | null;
  action: PfRule['action'] | null;
}

/** One lint finding. */
export interface LintFinding {
  code: LintCode;
  kind: LintKind;
  severity: LintSeverity;
  rule: LintRuleRef;
  /** The other rules involved (covering rules, overridden defaults). */
  related: LintRuleRef[];
  /** Why, in words, citing the semantics. */
  why: string;
  /** Generated-ruleset indexes of every pf rule of `rule` (inet46 halves, list expansions). */
  ruleIndexes: number[];
}

/** One GUI rule (or one system rule) and its pf rules. */
interface Subject {
  ref: LintRuleRef;
  members: RuleSpace[];
}

/** A (leaf interface, direction, family) cell of a rule and what decides its packets instead of it. */
interface CellResult {
  leaf: string;
  direction: 'in' | 'out';
  family: 4 | 6;
  certain: RuleSpace | null;
  possible: RuleSpace | null;
}

/** Decisive rules of one (leaf, direction, family) cell, indexed by necessary conditions for covering. */
interface Bucket {
  family: 4 | 6;
  /** Rules with no protocol restriction, by rule index (ascending). */
  anyProtocol: number[];
  byProtocol: Map<number, number[]>;
  /** Built on first use: rules by the address intervals they certainly match (docs/adr/0082). */
  src?: AddressIndex;
  dst?: AddressIndex;
}

/** Rules whose certain address set contains a point; `always` = rules not in the tree (dynamic, many intervals). */
interface AddressIndex {
  always: number[];
  tree: IntervalStabber<number | bigint>;
}

/** Above this many intervals a rule's address set is not put in the tree (it stays a candidate everywhere). */
const MAX_INDEXED_INTERVALS = 64;

const SEVERITY_ORDER: Record<LintSeverity, number> = { error: 0, warning: 1, info: 2 };

function refOf(rule: PfRule, tracker: string | null = rule.tracker): LintRuleRef {
  return {
    kind: rule.origin.kind,
    tab: rule.origin.tab,
    position: rule.origin.position,
    tracker,
    descr: rule.origin.descr,
    index: rule.index,
    action: rule.action,
  };
}

/** `lan #3 "Allow web"` / `system rule "Default deny rule IPv4"`. */
export function describeRef(ref: LintRuleRef): string {
  return ref.kind === 'system' ? `system rule "${ref.descr}"` : `${ref.tab} #${ref.position} "${ref.descr}"`;
}

function finding(
  code: LintCode,
  rule: LintRuleRef,
  why: string,
  related: LintRuleRef[] = [],
  ruleIndexes: number[] = [],
): LintFinding {
  const { kind, severity } = LINT_CATALOG[code];
  return { code, kind, severity, rule, related, why, ruleIndexes };
}

/**
 * Lints a generated ruleset. `config` (optional) supplies trackers of rules that are not in the ruleset
 * (disabled, left out). Findings are ordered by rule (ruleset order, then rules not in the ruleset by config
 * order), then code. Empty ruleset → no findings.
 */
export function lintRuleset(ruleset: PfRuleset, config?: PolicyConfig): LintFinding[] {
  const analysis = new CoverageAnalysis(ruleset);
  const coverage = analysis.deadRules();
  // A rule that never decides cannot override a default or send a reply: those checks skip it.
  const live = analysis.subjects.filter(
    (s) => !coverage.some((f) => (f.code === 'LINT001' || f.code === 'LINT002') && f.rule === s.ref),
  );
  const findings = [
    ...coverage,
    ...analysis.floatingOverrides(live),
    ...rejectOnWan(ruleset, live),
    ...leftOutRules(ruleset.warnings, config),
  ];
  const order = (f: LintFinding) => f.rule.index ?? Number.MAX_SAFE_INTEGER;
  return findings.sort(
    (a, b) =>
      order(a) - order(b) ||
      (a.rule.index === null && b.rule.index === null ? a.rule.position - b.rule.position : 0) ||
      a.code.localeCompare(b.code),
  );
}

/** What `portcullis policy lint --json` prints and `POST /api/v1/policy/lint` answers (docs/policy-lint.md). */
export interface LintReport {
  findings: LintFinding[];
  /** Import and generation warnings of the linted configuration. */
  warnings: PolicyWarning[];
}

/** The lint report of a generated ruleset: one shape for the CLI's JSON and the API. */
export function lintReport(ruleset: PfRuleset, config?: PolicyConfig): LintReport {
  return { findings: lintRuleset(ruleset, config), warnings: ruleset.warnings };
}

/** Findings grouped by severity, most severe first (for human output). */
export function groupBySeverity(findings: readonly LintFinding[]): Array<[LintSeverity, LintFinding[]]> {
  const groups = new Map<LintSeverity, LintFinding[]>();
  for (const f of [...findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity])) {
    groups.set(f.severity, [...(groups.get(f.severity) ?? []), f]);
  }
  return [...groups];
}

class CoverageAnalysis {
  readonly spaces: RuleSpace[];
  readonly subjects: Subject[];
  private readonly buckets = new Map<string, Bucket>();
  private readonly subjectOf: Subject[] = [];

  constructor(ruleset: PfRuleset) {
    const builder = new SpaceBuilder(ruleset);
    this.spaces = ruleset.rules.map((rule) => builder.build(rule));
    const byKey = new Map<string, Subject>();
    this.subjects = [];
    for (const space of this.spaces) {
      const { rule } = space;
      const key = subjectKey(rule);
      let subject = byKey.get(key);
      if (subject === undefined) {
        subject = { ref: refOf(rule), members: [] };
        byKey.set(key, subject);
        this.subjects.push(subject);
      }
      subject.members.push(space);
      this.subjectOf[rule.index] = subject;
      if (rule.action !== 'match') this.index(space);
    }
  }

  /** Files a decisive rule into the buckets of every cell it applies to. */
  private index(space: RuleSpace): void {
    for (const [leaf, direction, family] of cells(space)) {
      const key = `${leaf}\u0000${direction}\u0000${family}`;
      let bucket = this.buckets.get(key);
      if (bucket === undefined) {
        bucket = { family, anyProtocol: [], byProtocol: new Map() };
        this.buckets.set(key, bucket);
      }
      const protocols = space.families[family]?.protocols ?? null;
      if (protocols === null) bucket.anyProtocol.push(space.rule.index);
      else
        for (const p of protocols) {
          const list = bucket.byProtocol.get(p);
          if (list === undefined) bucket.byProtocol.set(p, [space.rule.index]);
          else list.push(space.rule.index);
        }
    }
  }

  /**
   * Candidate coverers of `space` in one cell, in ascending rule order. Each index gives a superset of the rules
   * that can cover it — by protocol (rules without a restriction plus those listing one protocol of `space`: a
   * coverer must include all of them) and by address (rules whose certain set holds the first point of
   * `space`'s set) — and the smallest one is used (docs/adr/0082-lint-performance.md).
   */
  private candidates(space: RuleSpace, leaf: string, direction: 'in' | 'out', family: 4 | 6): number[] {
    const bucket = this.buckets.get(`${leaf}\u0000${direction}\u0000${family}`);
    const own = space.families[family];
    if (bucket === undefined || own === null) return [];
    let narrowest: number[] = [];
    if (own.protocols !== null) {
      let first = true;
      for (const p of own.protocols) {
        const list = bucket.byProtocol.get(p) ?? [];
        if (first || list.length < narrowest.length) narrowest = list;
        first = false;
      }
    }
    let bestSize = bucket.anyProtocol.length + narrowest.length;
    let best = () => mergeSorted(bucket.anyProtocol, narrowest);
    for (const side of ['dst', 'src'] as const) {
      if (bestSize <= MAX_INDEXED_INTERVALS || own[side].dynamic) continue;
      const index = bucket[side] ?? this.addressIndex(bucket, side);
      bucket[side] = index;
      const stabbed = index.tree.stab(own[side].upper[0] as number | bigint);
      if (stabbed.length + index.always.length < bestSize) {
        bestSize = stabbed.length + index.always.length;
        best = () =>
          mergeSorted(
            index.always,
            stabbed.sort((a, b) => a - b),
          );
      }
    }
    return best();
  }

  private addressIndex(bucket: Bucket, side: 'src' | 'dst'): AddressIndex {
    const always: number[] = [];
    const items: Array<{ start: number | bigint; end: number | bigint; id: number }> = [];
    const members = unique([...bucket.anyProtocol, ...[...bucket.byProtocol.values()].flat()]);
    for (const id of members.sort((a, b) => a - b)) {
      const set = (this.spaces[id] as RuleSpace).families[bucket.family]?.[side];
      if (set === undefined) continue;
      if (set.dynamic || set.lower.length > MAX_INDEXED_INTERVALS * 2) always.push(id);
      else
        for (let i = 0; i < set.lower.length; i += 2) {
          items.push({
            start: set.lower[i] as number | bigint,
            end: set.lower[i + 1] as number | bigint,
            id,
          });
        }
    }
    return { always, tree: new IntervalStabber(items) };
  }

  /** What decides `space`'s packets in one cell instead of it (docs/reference/pf-semantics.md §2.1 closed form). */
  private cell(space: RuleSpace, leaf: string, direction: 'in' | 'out', family: 4 | 6): CellResult {
    const result: CellResult = { leaf, direction, family, certain: null, possible: null };
    const self = this.subjectOf[space.rule.index];
    let laterNonQuick: RuleSpace | null = null;
    for (const index of this.candidates(space, leaf, direction, family)) {
      const other = this.spaces[index] as RuleSpace;
      if (this.subjectOf[index] === self) continue;
      const before = index < space.rule.index;
      // A quick rule is pre-empted only by earlier quick rules; a non-quick one by any quick rule or a later rule.
      if (space.rule.quick) {
        if (!before) break;
        if (!other.rule.quick) continue;
      } else if (before && !other.rule.quick) continue;
      const answer = covers(other, space, family);
      if (answer === Cover.Certain) {
        if (other.rule.quick) {
          result.certain = other;
          return result;
        }
        laterNonQuick = other;
      } else if (answer === Cover.Possible && result.possible === null) {
        result.possible = other;
      }
    }
    result.certain = laterNonQuick;
    return result;
  }

  /** LINT001-005: rules that never (or may never, or only partly) decide a packet. */
  deadRules(): LintFinding[] {
    const findings: LintFinding[] = [];
    for (const subject of this.subjects) {
      const decisive = subject.members.filter((m) => m.rule.action !== 'match');
      if (decisive.length === 0) continue;
      const results: CellResult[] = [];
      for (const member of decisive) {
        for (const [leaf, direction, family] of cells(member))
          results.push(this.cell(member, leaf, direction, family));
      }
      const indexes = subject.members.map((m) => m.rule.index);
      if (results.length === 0) {
        if (subject.ref.kind === 'user') findings.push(neverMatches(subject, indexes));
        continue;
      }
      const covered = results.filter((r) => r.certain !== null);
      const coverers = unique(covered.map((r) => r.certain as RuleSpace));
      if (subject.ref.kind === 'system' && coverers.every((c) => c.rule.origin.kind === 'system')) continue;
      const related = coverers.map((c) => refOf(c.rule));
      if (covered.length === results.length) {
        const action = subject.ref.action;
        const same = coverers.every((c) => c.rule.action === action);
        const why =
          `It never decides a packet: ${explainCover(subject, covered)} ` +
          (same
            ? `The covering rule${coverers.length > 1 ? 's have' : ' has'} the same action (${action}), so removing it changes nothing.`
            : `The covering rule${coverers.length > 1 ? 's act' : ' acts'} differently (${unique(coverers.map((c) => c.rule.action)).join('/')} instead of ${action}), so this rule does not do what it says.`);
        findings.push(finding(same ? 'LINT002' : 'LINT001', subject.ref, why, related, indexes));
        continue;
      }
      const open = results.filter((r) => r.certain === null);
      if (open.every((r) => r.possible !== null)) {
        const maybe = unique(open.map((r) => r.possible as RuleSpace));
        findings.push(
          finding(
            'LINT003',
            subject.ref,
            `Cannot tell whether it ever decides a packet: ${maybe.map((m) => describeRef(refOf(m.rule))).join(', ')} would pre-empt it ` +
              `${cellList(open)} if ${uncertainty(maybe, subject)}; lint never claims shadowing that depends on run-time contents or conditions (docs/adr/0081).`,
            unique([...coverers, ...maybe]).map((c) => refOf(c.rule)),
            indexes,
          ),
        );
        continue;
      }
      if (covered.length > 0 && subject.ref.kind === 'user') {
        findings.push(
          finding(
            'LINT004',
            subject.ref,
            `It never decides a packet ${cellList(covered)}: ${explainCover(subject, covered)} It still applies ${cellList(open)}.`,
            related,
            indexes,
          ),
        );
      }
    }
    return findings;
  }

  /**
   * LINT011: a non-quick floating user rule is last-match, and pfSense puts its non-quick defaults (default deny,
   * antispoof, loopback, let-out-anything) BEFORE the floating rules, so for every packet no quick rule decides
   * the floating rule overrides them (docs/reference/pf-semantics.md §0.2, §0.8; PFS-272 l.3388, l.3782).
   */
  floatingOverrides(subjects: readonly Subject[]): LintFinding[] {
    const findings: LintFinding[] = [];
    const defaults = this.spaces.filter(
      (s) => s.rule.origin.kind === 'system' && !s.rule.quick && s.rule.action !== 'match',
    );
    for (const subject of subjects) {
      if (subject.ref.kind !== 'user' || subject.ref.tab !== 'floating') continue;
      const members = subject.members.filter((m) => !m.rule.quick && m.rule.action !== 'match');
      const overridden = new Map<number, RuleSpace>();
      for (const member of members) {
        for (const target of defaults) {
          if (target.rule.index > member.rule.index || target.rule.action === member.rule.action) continue;
          if (overridden.has(target.rule.index)) continue;
          // Cells where the default would otherwise decide: a later default with the floating rule's action that
          // covers it there (e.g. "let out anything" after the outbound default deny) already overrides it.
          const decisiveCells = sharedCells(member, target).filter(
            ([leaf, direction, family]) =>
              !defaults.some(
                (later) =>
                  later.rule.index > target.rule.index &&
                  later.rule.index < member.rule.index &&
                  later.rule.action === member.rule.action &&
                  (later.directions & (direction === 'in' ? 1 : 2)) !== 0 &&
                  later.leaves.includes(leaf) &&
                  covers(later, member, family) === Cover.Certain,
              ),
          );
          if (decisiveCells.length > 0) overridden.set(target.rule.index, target);
        }
      }
      if (overridden.size === 0) continue;
      const targets = [...overridden.values()];
      const action = subject.ref.action;
      findings.push(
        finding(
          'LINT011',
          subject.ref,
          `This floating rule is not quick, so pf applies it as the last matching rule: for packets no quick rule decides it overrides ` +
            `${unique(targets.map((t) => `${describeRef(refOf(t.rule))} (${t.rule.action} ${t.rule.direction === 'any' ? 'in/out' : t.rule.direction})`)).join(', ')}, which pfSense emits earlier and without quick ` +
            `(docs/reference/pf-semantics.md §0.2, §0.8). ${action === 'pass' ? 'Traffic no interface rule allows passes.' : 'Traffic pfSense lets through by default is blocked.'} ` +
            `Tick "quick" to make it decide at once, or scope it so it no longer overlaps the defaults.`,
          targets.map((t) => refOf(t.rule)),
          subject.members.map((m) => m.rule.index),
        ),
      );
    }
    return findings;
  }
}

/** The (leaf, direction, family) cells a rule applies to and can match in. */
function cells(space: RuleSpace): Array<[string, 'in' | 'out', 4 | 6]> {
  const out: Array<[string, 'in' | 'out', 4 | 6]> = [];
  for (const family of [4, 6] as const) {
    if (space.families[family] === null) continue;
    for (const leaf of space.leaves) {
      if (space.directions & 1) out.push([leaf, 'in', family]);
      if (space.directions & 2) out.push([leaf, 'out', family]);
    }
  }
  return out;
}

/** The cells both rules apply to in which they certainly share a packet. */
function sharedCells(a: RuleSpace, b: RuleSpace): Array<[string, 'in' | 'out', 4 | 6]> {
  const leaves = new Set(b.leaves);
  return cells(a).filter(
    ([leaf, direction, family]) =>
      leaves.has(leaf) &&
      (b.directions & (direction === 'in' ? 1 : 2)) !== 0 &&
      certainlyOverlap(a, b, family),
  );
}

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && (a[i] as number) < (b[j] as number))) out.push(a[i++] as number);
    else out.push(b[j++] as number);
  }
  return out;
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function cellList(results: readonly CellResult[]): string {
  const byLeaf = new Map<string, Set<string>>();
  for (const r of results) {
    const key = `${r.leaf} ${r.direction}`;
    byLeaf.set(key, (byLeaf.get(key) ?? new Set()).add(r.family === 4 ? 'IPv4' : 'IPv6'));
  }
  return `on ${[...byLeaf].map(([key, families]) => `${key} (${[...families].join('+')})`).join(', ')}`;
}

function explainCover(subject: Subject, covered: readonly CellResult[]): string {
  const quick = subject.members.some((m) => m.rule.quick);
  const parts = unique(covered.map((r) => r.certain as RuleSpace)).map((c) => {
    const where = cellList(covered.filter((r) => r.certain === c));
    const relation = c.rule.quick
      ? quick
        ? 'an earlier quick rule'
        : 'a quick rule'
      : 'a later non-quick rule';
    return `${describeRef(refOf(c.rule))} (${relation}) matches every packet this rule could match ${where}`;
  });
  const rule = quick
    ? 'the first matching quick rule decides'
    : 'pf uses the last matching rule unless a quick rule matches';
  return `${parts.join('; ')}, and ${rule} (docs/reference/pf-semantics.md §2.1).`;
}

/** Why a possible coverage is uncertain: dynamic operands of either side, or the coverer's conditions. */
function uncertainty(coverers: readonly RuleSpace[], subject: Subject): string {
  const reasons = new Set<string>();
  for (const space of [...coverers, ...subject.members]) {
    for (const family of [4, 6] as const) {
      const f = space.families[family];
      if (f === null) continue;
      for (const side of [f.src, f.dst, f.srcPort, f.dstPort]) {
        if (side.dynamic) reasons.add(`${side.text} holds only its known entries`);
      }
    }
  }
  for (const c of coverers)
    for (const condition of c.conditions) reasons.add(`its condition ${condition} applies`);
  return [...reasons].join(' and ') || 'its run-time contents allow it';
}

function neverMatches(subject: Subject, indexes: number[]): LintFinding {
  return finding(
    'LINT005',
    subject.ref,
    'It can match no packet: after alias expansion an address or port set is empty for every family the rule ' +
      'applies to (e.g. an inet rule on an alias holding only IPv6 entries; pf restricts a mixed table to the ' +
      "rule's family, docs/reference/pf-semantics.md §1.5).",
    [],
    indexes,
  );
}

/** LINT010: reject (pf `block return`) on a WAN-type interface, inbound. */
function rejectOnWan(ruleset: PfRuleset, subjects: readonly Subject[]): LintFinding[] {
  const wan = new Set(ruleset.interfaces.filter((i) => i.hasGateway || i.key === 'wan').map((i) => i.key));
  const findings: LintFinding[] = [];
  for (const subject of subjects) {
    if (subject.ref.kind !== 'user') continue;
    const hits = subject.members.filter(
      (m) => m.rule.action === 'reject' && (m.directions & 1) !== 0 && m.leaves.some((leaf) => wan.has(leaf)),
    );
    if (hits.length === 0) continue;
    const leaves = unique(hits.flatMap((m) => m.leaves.filter((leaf) => wan.has(leaf))));
    const replies = replyKinds(hits);
    findings.push(
      finding(
        'LINT010',
        subject.ref,
        `Reject is pf "block return": every matching packet arriving on ${leaves.join(', ')} (an interface with a gateway, i.e. facing the Internet) ` +
          `is answered with ${replies} (docs/reference/pf-semantics.md §2.6). Scanners get a reply that confirms the address is live and filtered, and each probe ` +
          `costs an outgoing packet; "block" drops silently. Use block on WAN interfaces; keep reject for internal ones where a fast failure helps.`,
        [],
        subject.members.map((m) => m.rule.index),
      ),
    );
  }
  return findings;
}

function replyKinds(rules: readonly RuleSpace[]): string {
  const kinds = new Set<string>();
  for (const rule of rules) {
    for (const family of [4, 6] as const) {
      const protocols = rule.families[family]?.protocols;
      if (protocols === undefined) continue;
      if (protocols === null || protocols.has(PROTO_TCP)) kinds.add('a TCP RST');
      // pf_return: UDP and other non-ICMP protocols get a port unreachable; ICMP gets nothing.
      if (
        protocols === null ||
        [...protocols].some((p) => p !== PROTO_TCP && p !== PROTO_ICMP && p !== PROTO_ICMP6)
      )
        kinds.add(`an ICMP${family === 6 ? 'v6' : ''} port unreachable`);
    }
  }
  return [...kinds].join(' or ') || 'a reply';
}

/** LINT020 / LINT030 from the generator's warnings: rules that are not in the ruleset at all. */
function leftOutRules(warnings: readonly PolicyWarning[], config: PolicyConfig | undefined): LintFinding[] {
  const findings: LintFinding[] = [];
  const seen = new Set<string>();
  for (const warning of warnings) {
    if (warning.element !== 'rule' || warning.ref === undefined) continue;
    const code =
      warning.code === 'POL001' ? 'LINT030' : ['POL004', 'POL005'].includes(warning.code) ? 'LINT020' : null;
    if (code === null) continue;
    const { tab = '', position = 0, configIndex, descr = '' } = warning.ref;
    const key = `${code}:${tab}:${position}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const source = configIndex === undefined ? undefined : config?.rules[configIndex];
    const ref: LintRuleRef = {
      kind: 'user',
      tab,
      position,
      tracker: source?.tracker ?? null,
      descr,
      index: null,
      action: source?.type ?? null,
    };
    const why =
      code === 'LINT030'
        ? 'The rule is disabled, so pfSense leaves it out of the ruleset (docs/reference/pf-semantics.md §1.3); it has no effect until enabled.'
        : `${warning.message}. pfSense replaces the whole rule with a comment, so its traffic is not ${
            source?.type === 'pass' ? 'passed' : 'blocked'
          } by it but falls through to the next matching rule (docs/reference/pf-semantics.md §1.3, §1.7).`;
    findings.push(finding(code, ref, why));
  }
  return findings;
}
