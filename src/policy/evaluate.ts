/**
 * @module The packet evaluator: would this packet pass, and which rule decides? pf semantics over a generated
 * `PfRuleset` (docs/reference/pf-semantics.md §0, §2; docs/adr/0050-evaluation-first-match-buckets.md … 0056):
 *
 * 1. The session's state table is consulted first; a packet matching a state passes with no rule evaluated.
 * 2. Otherwise the rules are evaluated in order: the first matching `quick` rule decides, else the last matching
 *    rule, else the default pass. `match` rules never decide. `reject` is `block return`.
 * 3. A deciding `pass` rule that keeps state creates one, so later replies pass by state.
 * 4. When the outcome depends on a fact the ruleset cannot know (a dynamic alias's contents, a schedule), every
 *    possibility is explored; if they disagree on the verdict the answer is `unknown`, never a guess.
 *
 * Speed: the compiled ruleset is split lazily into buckets per (interface, direction, family, protocol) holding
 * the candidate rules in first-match order (quick rules in order, then non-quick rules reversed, docs/reference/pf-semantics.md
 * §4.2); per bucket, bitsets of the rules each address class / port interval can match are intersected and the
 * first candidate that matches exactly decides. Rule-by-rule evaluation is used for traces, tags and unknowns.
 */
import {
  type CompiledRule,
  type CompiledRuleset,
  compileRuleset,
  type FactAssignment,
  matchRule,
  type Operand,
  type PacketContext,
  resolveInterface,
  staticMismatch,
  type UnknownFact,
} from './compiled.ts';
import { type TranslationStep, withNat } from './evaluate-nat.ts';
import type { PfRule, PfRuleset, PolicyWarning } from './model.ts';
import { canChangeVerdict } from './warnings.ts';
import {
  formatPacket,
  type Packet,
  type PacketFacts,
  PROTO_ICMP,
  PROTO_ICMP6,
  PROTO_TCP,
  PROTO_UDP,
  createPacketScratch,
  packetFacts,
  packetFactsInto,
  protocolName,
} from './packet.ts';
import { type StateEntry, StateTable } from './state-table.ts';

export type Verdict = 'pass' | 'block' | 'reject' | 'unknown';
/** `nat`: an `rdr pass` passed the packet without filter rules (docs/adr/0150-nat-before-filtering.md). */
type DecidedBy = 'rule' | 'state' | 'default' | 'nat';
type Reply = 'tcp-rst' | 'icmp-unreach-port' | null;

/** The rule that decided (or created the state that decided), as a person finds it in the GUI. */
export interface RuleRef {
  kind: 'user' | 'system';
  tab: string;
  position: number;
  tracker: string | null;
  descr: string;
  label: string | null;
  ridentifier: string | null;
  /** Index in the generated ruleset (`PfRule.index`). */
  index: number;
  action: PfRule['action'];
}

/** One rule pf considered for this packet (on its interface, direction and family) and what happened. */
interface TraceEntry {
  index: number;
  kind: 'user' | 'system';
  tab: string;
  position: number;
  descr: string;
  action: PfRule['action'];
  quick: boolean;
  /** `unknown`: every known condition holds; whether it matches depends on an unknown fact. */
  result: 'match' | 'no-match' | 'unknown';
  reason: string;
}

/** One possible outcome when the verdict depends on unknown facts. */
interface PossibleOutcome {
  verdict: Exclude<Verdict, 'unknown'>;
  decidedBy: 'rule' | 'default';
  rule: RuleRef | null;
  /** The assumptions leading here (`8.8.8.8 is in <blocklist>: yes`). */
  assuming: string[];
}

export interface EvaluationResult {
  /** The packet as evaluated, one line. */
  packet: string;
  verdict: Verdict;
  decidedBy: DecidedBy;
  /** Deciding rule; for `state`, the rule that created the state; null for `default` or when it depends. */
  rule: RuleRef | null;
  reply: Reply;
  /** Rules on this interface/direction/family in evaluation order, up to where pf stopped. Empty unless traced. */
  trace: TraceEntry[];
  /** Rules not considered because of their interface, direction or family. */
  skippedRules: number;
  stateCreated: boolean;
  /** For `decidedBy: 'state'`: the state that matched. */
  state?: { createdBy: string; interface: string; direction: 'in' | 'out' };
  /**
   * False when unknown facts leave the deciding rule open although the verdict is known: `rule` is then the one
   * deciding under the known contents of the dynamic sets, and `possibilities` lists the others.
   */
  ruleCertain?: boolean;
  /** Present when unknown facts leave the verdict or the deciding rule open: every possible outcome. */
  possibilities?: PossibleOutcome[];
  /** Defaults applied to the packet (`TCP flags S assumed`). */
  assumptions: string[];
  /**
   * Import/generation warnings that can change this answer: those about the packet's interface, its groups and
   * floating rules, and those about no tab in particular (docs/adr/0152-honest-inputs-and-runtime-facts.md). Empty when none; filled by `evaluate()`.
   */
  warnings: PolicyWarning[];
  /** The decision in one readable paragraph. */
  explanation: string;
  /** NAT translations applied, in order, each with the rule that made it (docs/adr/0150-nat-before-filtering.md). Absent = none. */
  translations?: TranslationStep[];
}

export interface EvaluateOptions {
  /** Build the per-rule trace and explanation (default true). The benchmark turns it off. */
  trace?: boolean;
}

export interface Evaluator {
  readonly compiled: CompiledRuleset;
  /** Evaluates one packet against the session's state table (and adds to it). Throws `PacketError`. */
  evaluate(packet: Packet, options?: EvaluateOptions): EvaluationResult;
  /** Verdict only, for throughput: no trace, no explanation. */
  verdict(packet: Packet): Verdict;
  /**
   * `verdict()` for a packet already validated with `packetFacts` — for what-if runs that ask the same flows again
   * (a diff of two rulesets, a replayed capture) and should not pay for parsing each time.
   */
  verdictOfFacts(facts: PacketFacts): Verdict;
  readonly states: StateTable;
}

/** Packets start untagged; rule-by-rule evaluation tracks tags in its own set. */
const NO_TAGS: ReadonlySet<string> = new Set();

/** Above this many explored possibilities the answer is `unknown` without listing them (docs/adr/0053). */
const MAX_POSSIBILITIES = 256;

/** The GUI-facing reference of a pf rule (also used by the diff and the lock-out check). */
export function ruleRef(rule: PfRule): RuleRef {
  return {
    kind: rule.origin.kind,
    tab: rule.origin.tab,
    position: rule.origin.position,
    tracker: rule.tracker,
    descr: rule.origin.descr,
    label: rule.label,
    ridentifier: rule.ridentifier,
    index: rule.index,
    action: rule.action,
  };
}

function verdictOf(action: PfRule['action']): Exclude<Verdict, 'unknown'> {
  return action === 'pass' ? 'pass' : action === 'reject' ? 'reject' : 'block';
}

/**
 * The verdict names the effect on this packet (docs/adr/0151-verdict-names-the-effect.md): a `reject` rule that sends nothing back (ICMP, or a
 * TCP RST) drops the packet exactly like `block`, so the verdict is `block`; the trace keeps the rule's action.
 */
function effectOf<V extends Verdict>(verdict: V, facts: PacketFacts): V | 'block' {
  return verdict === 'reject' && replyFor(verdict, facts) === null ? 'block' : verdict;
}

/** pf `block return` (docs/reference/pf-semantics.md §2.6, docs/adr/0055): RST for TCP (not to a RST), ICMP unreachable for non-ICMP. */
function replyFor(verdict: Verdict, facts: PacketFacts): Reply {
  if (verdict !== 'reject') return null;
  if (facts.proto === PROTO_TCP) return facts.tcpFlags & 4 ? null : 'tcp-rst';
  if (facts.proto === PROTO_ICMP || facts.proto === PROTO_ICMP6) return null;
  return 'icmp-unreach-port';
}

function createsState(rule: PfRule): boolean {
  return rule.action === 'pass' && rule.state !== null && rule.state !== 'none';
}

/** Bitsets of candidate rules per address class and port interval for one (interface, direction, family, proto). */
interface Bucket {
  rules: CompiledRule[];
  words: number;
  srcMemo: Array<Uint32Array | undefined>;
  dstMemo: Array<Uint32Array | undefined>;
  srcPorts: PortIndex | null;
  dstPorts: PortIndex | null;
  /** Candidate bits per TCP flags byte (TCP buckets) or ICMP type (ICMP buckets), built on first use. */
  detailMemo: Array<Uint32Array | undefined>;
}

/** Elementary port intervals starting at `starts[i]`, each with a candidate bitset. */
interface PortIndex {
  starts: Int32Array;
  bits: Uint32Array;
}

function buildPortIndex(
  rules: CompiledRule[],
  words: number,
  side: 'fromPorts' | 'toPorts',
): PortIndex | null {
  if (rules.every((r) => r[side] === null)) return null;
  const points = new Set<number>([0]);
  for (const rule of rules) {
    const ports = rule[side];
    if (ports === null) continue;
    for (let i = 0; i < ports.ranges.length; i += 2) {
      points.add(ports.ranges[i] as number);
      if ((ports.ranges[i + 1] as number) < 65535) points.add((ports.ranges[i + 1] as number) + 1);
    }
  }
  const starts = Int32Array.from([...points].sort((a, b) => a - b));
  const bits = new Uint32Array(starts.length * words);
  rules.forEach((rule, j) => {
    const ports = rule[side];
    const bit = 1 << (j & 31);
    const word = j >>> 5;
    const mark = (lo: number, hi: number) => {
      for (let k = lo; k <= hi; k++) bits[k * words + word] = (bits[k * words + word] as number) | bit;
    };
    if (ports === null || ports.dynamic) mark(0, starts.length - 1);
    else {
      for (let i = 0; i < ports.ranges.length; i += 2) {
        mark(
          floorIndex(starts, ports.ranges[i] as number),
          floorIndex(starts, ports.ranges[i + 1] as number),
        );
      }
    }
  });
  return { starts, bits };
}

function floorIndex(sorted: Int32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((sorted[mid] as number) <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * A dense array of `length` empty slots. Memo arrays are filled in whatever order packets arrive; a first write
 * far past the end of a plain `[]` would turn it into a slow dictionary-backed array.
 */
function emptySlots<T>(length: number): Array<T | undefined> {
  return new Array<T | undefined>(length).fill(undefined);
}

/** Buckets per interface: 2 directions × 2 families × 256 protocol numbers. */
const BUCKET_SLOTS = 4 * 256;

function createBucket(compiled: CompiledRuleset, facts: PacketFacts): Bucket {
  const hasPorts = facts.proto === PROTO_TCP || facts.proto === PROTO_UDP;
  const isIcmp = facts.proto === PROTO_ICMP || facts.proto === PROTO_ICMP6;
  const applicable = compiled.rules.filter(
    (r) =>
      staticMismatch(r, facts) === null &&
      (r.protocols === null || r.protocols.has(facts.proto)) &&
      (hasPorts || (r.fromPorts === null && r.toPorts === null)) &&
      (isIcmp || (facts.family === 4 ? r.icmp4 : r.icmp6) === null),
  );
  // First-match order equivalent to pf's last-match-with-quick (docs/reference/pf-semantics.md §4.2).
  const rules = firstMatchOrder(applicable);
  const words = Math.max(1, Math.ceil(rules.length / 32));
  return {
    rules,
    words,
    srcMemo: emptySlots(compiled.index.classCount),
    dstMemo: emptySlots(compiled.index.classCount),
    srcPorts: hasPorts ? buildPortIndex(rules, words, 'fromPorts') : null,
    dstPorts: hasPorts ? buildPortIndex(rules, words, 'toPorts') : null,
    detailMemo: emptySlots(256),
  };
}

/**
 * Candidate bits for the packet's TCP flags (a stateful rule's `flags S/SA` rejects a bare ACK) or ICMP type; null
 * for other protocols. Filtering these here keeps mid-stream TCP packets from testing every rule one by one.
 */
function detailBits(bucket: Bucket, facts: PacketFacts): Uint32Array | null {
  const tcp = facts.proto === PROTO_TCP;
  if (!tcp && facts.icmpType < 0) return null;
  const key = tcp ? facts.tcpFlags : facts.icmpType;
  const cached = bucket.detailMemo[key];
  if (cached !== undefined) return cached;
  const bits = new Uint32Array(bucket.words);
  bucket.rules.forEach((rule, j) => {
    const types = facts.family === 4 ? rule.icmp4 : rule.icmp6;
    const candidate = tcp
      ? !rule.hasFlags || (facts.tcpFlags & rule.flagsMask) === rule.flagsSet
      : types === null || types.has(facts.icmpType);
    if (candidate) bits[j >>> 5] = (bits[j >>> 5] as number) | (1 << (j & 31));
  });
  bucket.detailMemo[key] = bits;
  return bits;
}

/** Candidate bits of a bucket's rules for an address class on one side. */
function addressBits(
  compiled: CompiledRuleset,
  bucket: Bucket,
  family: 4 | 6,
  classId: number,
  side: 'from' | 'to',
): Uint32Array {
  const memo = side === 'from' ? bucket.srcMemo : bucket.dstMemo;
  const cached = memo[classId];
  if (cached !== undefined) return cached;
  const bits = new Uint32Array(bucket.words);
  bucket.rules.forEach((rule, j) => {
    const spec = rule[side];
    let candidate: boolean;
    if (spec.operand < 0) candidate = !spec.negate;
    else if (compiled.index.classHas(classId, spec.operand)) candidate = !spec.negate;
    else {
      const operand = compiled.operands[spec.operand] as Operand;
      const excluded = operand.excludeSet >= 0 && compiled.index.classHas(classId, operand.excludeSet);
      candidate = spec.negate || (!excluded && (family === 4 ? operand.dynamic4 : operand.dynamic6));
    }
    if (candidate) bits[j >>> 5] = (bits[j >>> 5] as number) | (1 << (j & 31));
  });
  memo[classId] = bits;
  return bits;
}

/** A rule index (-1 = default pass), or the unknown fact the decision depends on. A number needs no allocation. */
type Decision = number | UnknownFact;

/** Fast first-match decision through the bucket bitsets; `depends` sends the caller to the exploring path. */
function decideFast(
  compiled: CompiledRuleset,
  buckets: Map<string, Array<Bucket | undefined>>,
  ctx: PacketContext,
  assignment: FactAssignment | null,
): Decision {
  const { facts } = ctx;
  let perInterface = buckets.get(facts.interface);
  if (perInterface === undefined) {
    perInterface = emptySlots(BUCKET_SLOTS);
    buckets.set(facts.interface, perInterface);
  }
  // One slot per (direction, family, protocol number): BUCKET_SLOTS.
  const slot = ((facts.direction === 'in' ? 0 : 2) + (facts.family === 4 ? 0 : 1)) * 256 + facts.proto;
  let bucket = perInterface[slot];
  if (bucket === undefined) {
    bucket = createBucket(compiled, facts);
    perInterface[slot] = bucket;
  }
  const src = addressBits(compiled, bucket, facts.family, ctx.srcClass, 'from');
  const dst = addressBits(compiled, bucket, facts.family, ctx.dstClass, 'to');
  const sp = bucket.srcPorts;
  const dp = bucket.dstPorts;
  const spOffset = sp === null ? 0 : floorIndex(sp.starts, facts.srcPort) * bucket.words;
  const dpOffset = dp === null ? 0 : floorIndex(dp.starts, facts.dstPort) * bucket.words;
  const detail = detailBits(bucket, facts);
  for (let w = 0; w < bucket.words; w++) {
    let m = (src[w] as number) & (dst[w] as number);
    if (detail !== null) m &= detail[w] as number;
    if (sp !== null) m &= sp.bits[spOffset + w] as number;
    if (dp !== null) m &= dp.bits[dpOffset + w] as number;
    while (m !== 0) {
      const low = m & -m;
      const rule = bucket.rules[w * 32 + 31 - Math.clz32(low)] as CompiledRule;
      if (!rule.needsExactCheck) return rule.index;
      const result = matchRule(compiled, rule, ctx, assignment, false);
      if (result.kind === 'match') return rule.index;
      if (result.kind === 'depends') return result.fact;
      m ^= low;
    }
  }
  return -1;
}

/** Rule-by-rule pf evaluation under an assignment of unknown facts (tags need this order, docs/adr/0056). */
function decideInOrder(compiled: CompiledRuleset, ctx: PacketContext, assignment: FactAssignment): Decision {
  const tags = new Set<string>();
  const local: PacketContext = { ...ctx, tags };
  let decisive = -1;
  for (const rule of compiled.rules) {
    const result = matchRule(compiled, rule, local, assignment, false);
    if (result.kind === 'depends') return result.fact;
    if (result.kind === 'no') continue;
    if (rule.rule.tag !== undefined) tags.add(rule.rule.tag);
    if (rule.rule.action === 'match') continue;
    decisive = rule.index;
    if (rule.rule.quick) break;
  }
  return decisive;
}

interface Settled {
  verdict: Verdict;
  /** Rule index to report (-1 = default pass), null when the verdict is unknown. */
  shown: number | null;
  certain: boolean;
  createsState: boolean;
}

interface Explored {
  ruleIndex: number;
  assuming: Array<[UnknownFact, boolean]>;
}

/** pf's decision as a first-match list: quick rules in order, then non-quick rules reversed; `match` rules out. */
function firstMatchOrder(rules: readonly CompiledRule[]): CompiledRule[] {
  const deciding = rules.filter((r) => r.rule.action !== 'match');
  return [...deciding.filter((r) => r.rule.quick), ...deciding.filter((r) => !r.rule.quick).reverse()];
}

/** Explores every assignment of the unknown facts the decision depends on (depth-first, bounded). */
function explore(
  ctx: PacketContext,
  decideUnder: (ctx: PacketContext, assignment: FactAssignment | null) => Decision,
): Explored[] | null {
  const results: Explored[] = [];
  const stack: Array<Array<[UnknownFact, boolean]>> = [[]];
  while (stack.length > 0) {
    const assuming = stack.pop() as Array<[UnknownFact, boolean]>;
    const assignment = new Map(assuming.map(([fact, value]) => [fact.key, value]));
    const decision = decideUnder(ctx, assignment);
    if (typeof decision !== 'number') {
      if (results.length + stack.length >= MAX_POSSIBILITIES) return null;
      stack.push([...assuming, [decision, false]], [...assuming, [decision, true]]);
    } else {
      results.push({ ruleIndex: decision, assuming });
    }
  }
  return results;
}

function traceRules(compiled: CompiledRuleset, ctx: PacketContext): { trace: TraceEntry[]; skipped: number } {
  const trace: TraceEntry[] = [];
  const tags = new Set<string>();
  const local: PacketContext = { ...ctx, tags };
  let skipped = 0;
  for (const rule of compiled.rules) {
    if (staticMismatch(rule, ctx.facts) !== null) {
      skipped++;
      continue;
    }
    const result = matchRule(compiled, rule, local, null);
    const { origin } = rule.rule;
    const entry: TraceEntry = {
      index: rule.index,
      kind: origin.kind,
      tab: origin.tab,
      position: origin.position,
      descr: origin.descr,
      action: rule.rule.action,
      quick: rule.rule.quick,
      result: result.kind === 'match' ? 'match' : result.kind === 'no' ? 'no-match' : 'unknown',
      reason:
        result.kind === 'match'
          ? rule.rule.action === 'match'
            ? 'matches (match rules never decide)'
            : rule.rule.quick
              ? 'matches; quick, so evaluation stops here'
              : 'matches; not quick, a later match overrides it'
          : result.kind === 'no'
            ? result.reason
            : `depends on ${result.fact.text}`,
    };
    trace.push(entry);
    if (result.kind === 'match') {
      if (rule.rule.tag !== undefined) tags.add(rule.rule.tag);
      if (rule.rule.quick && rule.rule.action !== 'match') break;
    }
  }
  return { trace, skipped };
}

function describeRule(ref: RuleRef): string {
  const where = ref.kind === 'user' ? `user rule ${ref.position} on the ${ref.tab} tab` : `system rule`;
  const name = ref.descr || ref.label || '';
  const tracker = ref.tracker ? ` (tracker ${ref.tracker})` : '';
  return `${where} "${name}"${tracker}`;
}

function explain(
  result: Omit<EvaluationResult, 'explanation'>,
  facts: PacketFacts,
  compiled: CompiledRuleset,
): string {
  const flow = `${protocolName(facts.proto)} ${result.packet.split(' ').slice(3).join(' ')}`;
  const at = `${facts.direction === 'in' ? 'arriving on' : 'leaving through'} ${facts.interface}`;
  const head = `${result.verdict.toUpperCase()}: ${flow} ${at}`;
  const replyText =
    result.reply === 'tcp-rst'
      ? ' pf answers with a TCP RST.'
      : result.reply === 'icmp-unreach-port'
        ? ' pf answers with an ICMP port unreachable.'
        : '';
  if (result.decidedBy === 'state' && result.rule !== null && result.state !== undefined) {
    return `${head} matches an existing state created by ${describeRule(result.rule)} for "${result.state.createdBy}", so it passes without any rule being evaluated (states are checked first).`;
  }
  if (result.possibilities !== undefined && result.verdict !== 'unknown' && result.ruleCertain === false) {
    // Every possibility ends in the same verdict: one line, not a list (docs/adr/0151-verdict-names-the-effect.md).
    const count = result.possibilities.length;
    return `${head} whatever the run-time contents: all ${count} possibilities end in ${result.verdict} (shown: ${
      result.rule ? describeRule(result.rule) : 'the default pass'
    }, as the known contents say).${replyText}`;
  }
  if (result.possibilities !== undefined && result.verdict === 'unknown') {
    const options = result.possibilities
      .map(
        (p) =>
          `${p.assuming.length > 0 ? `if ${p.assuming.join(' and ')}` : 'otherwise'}: ${p.verdict} by ${p.rule ? describeRule(p.rule) : 'the default pass'}`,
      )
      .join('; ');
    return `${head}: the verdict cannot be known from the configuration alone — ${options}.`;
  }
  if (result.decidedBy === 'default' || result.rule === null) {
    return `${head}: no rule matched, and pf passes what no rule matches.`;
  }
  const rule = compiled.source.rules[result.rule.index] as PfRule;
  const why = rule.quick
    ? 'It is a quick rule, so it decides as soon as it matches'
    : 'It is not quick and it is the last rule that matched, so it decides';
  const state = result.stateCreated ? ' The packet creates a state, so replies will pass by state.' : '';
  const silentReject =
    rule.action === 'reject' && result.verdict === 'block'
      ? ' The rule is reject, but pf sends nothing back for this packet (ICMP, or a TCP RST), so it is simply dropped.'
      : '';
  return `${head} is decided by ${describeRule(result.rule)}. ${why}.${state}${replyText}${silentReject}`;
}

/** Creates an evaluation session with its own state table. Accepts a ruleset or an already compiled one. */
export function createEvaluator(ruleset: PfRuleset | CompiledRuleset): Evaluator {
  const compiled = 'index' in ruleset && 'operands' in ruleset ? ruleset : compileRuleset(ruleset);
  const states = new StateTable(compiled.source.statePolicy === 'if-bound');
  const buckets = new Map<string, Array<Bucket | undefined>>();

  /** Fills `into` (a fresh object, or the session's scratch one on the throughput path) for one packet. */
  const contextOfFacts = (facts: PacketFacts, into: PacketContext): PacketContext => {
    const key = resolveInterface(compiled, facts.interface);
    if (key !== facts.interface) facts.interface = key;
    into.facts = facts;
    into.srcClass = compiled.index.classOf(facts.src);
    into.dstClass = compiled.index.classOf(facts.dst);
    into.srcKey = null;
    into.dstKey = null;
    return into;
  };
  const newContext = (): PacketContext => ({
    facts: undefined as unknown as PacketFacts,
    srcClass: 0,
    dstClass: 0,
    srcKey: null,
    dstKey: null,
    tags: NO_TAGS,
  });
  // Evaluation is synchronous, so one scratch context per session is never shared by two packets at once.
  const scratch = newContext();

  const caveatMemo = new Map<string, PolicyWarning[]>();
  const caveatsFor = (iface: string): PolicyWarning[] => {
    let found = caveatMemo.get(iface);
    if (found === undefined) {
      const tabs = new Set(['floating', iface]);
      for (const entry of compiled.source.interfaces) if (entry.members?.includes(iface)) tabs.add(entry.key);
      found = compiled.source.warnings.filter(
        (w) => canChangeVerdict(w) && (w.ref?.tab === undefined || tabs.has(w.ref.tab)),
      );
      caveatMemo.set(iface, found);
    }
    return found;
  };

  // Per rule index, so a decision does not visit the (large, scattered) model rule objects.
  const ruleVerdicts = compiled.rules.map((r) => verdictOf(r.rule.action));
  const ruleKeepsState = compiled.rules.map((r) => createsState(r.rule));
  const verdictOfIndex = (ruleIndex: number): Exclude<Verdict, 'unknown'> =>
    ruleIndex < 0 ? 'pass' : (ruleVerdicts[ruleIndex] as Exclude<Verdict, 'unknown'>);
  /**
   * Settles explored possibilities (docs/adr/0053): the verdict if they agree; the rule to show — the one every
   * leaf shares, or, when only the verdict agrees, the one under the known contents (every unknown fact false);
   * and whether a state is created (a known pass where every possible deciding rule keeps state).
   */
  const settle = (explored: Explored[], facts: PacketFacts): Settled => {
    const verdicts = new Set(explored.map((e) => effectOf(verdictOfIndex(e.ruleIndex), facts)));
    const first = explored[0] as Explored;
    const certain = explored.every((e) => e.ruleIndex === first.ruleIndex);
    if (verdicts.size !== 1) return { verdict: 'unknown', shown: null, certain: false, createsState: false };
    const shown = certain
      ? first
      : (explored.find((e) => e.assuming.every(([, value]) => !value)) as Explored);
    const createsStateEverywhere = explored.every((e) => e.ruleIndex >= 0 && ruleKeepsState[e.ruleIndex] === true);
    return {
      verdict: [...verdicts][0] as Verdict,
      shown: shown.ruleIndex,
      certain,
      createsState: createsStateEverywhere,
    };
  };

  // Tags make rule order matter beyond first-match order; otherwise the bucketed first-match path decides.
  const decideUnder = (ctx: PacketContext, assignment: FactAssignment | null): Decision =>
    compiled.usesTags
      ? decideInOrder(compiled, ctx, assignment ?? new Map())
      : decideFast(compiled, buckets, ctx, assignment);

  // The throughput path validates each packet into one reused facts object (states keep copies).
  const packetScratch = createPacketScratch();
  const verdict = (packet: Packet): Verdict => verdictOfFacts(packetFactsInto(packet, packetScratch));
  const verdictOfFacts = (facts: PacketFacts): Verdict => {
    const ctx = contextOfFacts(facts, scratch);
    if (states.has(ctx.facts)) return 'pass';
    const decision = decideUnder(ctx, null);
    if (typeof decision !== 'number') {
      const explored = explore(ctx, decideUnder);
      if (explored === null) return 'unknown';
      const settled = settle(explored, ctx.facts);
      if (settled.createsState && settled.shown !== null) maybeCreateState(ctx.facts, settled.shown);
      return settled.verdict;
    }
    if (decision >= 0) maybeCreateState(ctx.facts, decision);
    const decided = verdictOfIndex(decision);
    return decided === 'reject' ? effectOf(decided, ctx.facts) : decided;
  };

  const maybeCreateState = (facts: PacketFacts, ruleIndex: number): boolean =>
    ruleKeepsState[ruleIndex] === true && states.create(facts, ruleIndex);

  const evaluate = (packet: Packet, options: EvaluateOptions = {}): EvaluationResult => {
    const withTrace = options.trace !== false;
    const ctx = contextOfFacts(packetFacts(packet), newContext());
    const { facts } = ctx;
    const base = {
      packet: formatPacket(facts),
      assumptions: facts.assumptions,
      warnings: withTrace ? caveatsFor(facts.interface) : [],
    };
    const finish = (result: Omit<EvaluationResult, 'explanation'>): EvaluationResult => ({
      ...result,
      explanation: withTrace ? explain(result, facts, compiled) : '',
    });

    const state: StateEntry | undefined = states.lookup(facts);
    if (state !== undefined) {
      return finish({
        ...base,
        verdict: 'pass',
        decidedBy: 'state',
        rule: ruleRef((compiled.rules[state.ruleIndex] as CompiledRule).rule),
        reply: null,
        trace: [],
        skippedRules: 0,
        stateCreated: false,
        state: {
          createdBy: formatPacket(state.facts),
          interface: state.facts.interface,
          direction: state.facts.direction,
        },
      });
    }

    const traced = withTrace ? traceRules(compiled, ctx) : { trace: [], skipped: 0 };
    const decision = decideUnder(ctx, null);
    if (typeof decision === 'number') {
      const ruleIndex = decision;
      const rule = ruleIndex < 0 ? null : (compiled.rules[ruleIndex] as CompiledRule).rule;
      const verdictNow = rule === null ? 'pass' : effectOf(verdictOf(rule.action), facts);
      return finish({
        ...base,
        verdict: verdictNow,
        decidedBy: rule === null ? 'default' : 'rule',
        rule: rule === null ? null : ruleRef(rule),
        reply: replyFor(verdictNow, facts),
        trace: traced.trace,
        skippedRules: traced.skipped,
        stateCreated: ruleIndex >= 0 && maybeCreateState(facts, ruleIndex),
      });
    }

    const explored = explore(ctx, decideUnder);
    if (explored === null) {
      return finish({
        ...base,
        verdict: 'unknown',
        decidedBy: 'rule',
        rule: null,
        reply: null,
        trace: traced.trace,
        skippedRules: traced.skipped,
        stateCreated: false,
        possibilities: [],
      });
    }
    const possibilities: PossibleOutcome[] = explored.map(({ ruleIndex, assuming }) => {
      const rule = ruleIndex < 0 ? null : (compiled.rules[ruleIndex] as CompiledRule).rule;
      return {
        verdict: rule === null ? 'pass' : effectOf(verdictOf(rule.action), facts),
        decidedBy: rule === null ? 'default' : 'rule',
        rule: rule === null ? null : ruleRef(rule),
        assuming: assuming.map(
          ([fact, value]) => `${fact.text.replace(/^whether /, '')}: ${value ? 'yes' : 'no'}`,
        ),
      };
    });
    const settled = settle(explored, facts);
    const shown =
      settled.shown === null || settled.shown < 0
        ? null
        : (compiled.rules[settled.shown] as CompiledRule).rule;
    return finish({
      ...base,
      verdict: settled.verdict,
      decidedBy: settled.shown !== null && settled.shown < 0 ? 'default' : 'rule',
      rule: shown === null ? null : ruleRef(shown),
      ruleCertain: settled.certain,
      reply: replyFor(settled.verdict, facts),
      trace: traced.trace,
      skippedRules: traced.skipped,
      stateCreated: settled.createsState && settled.shown !== null && maybeCreateState(facts, settled.shown),
      ...(settled.certain ? {} : { possibilities }),
    });
  };

  const filter: Evaluator = { compiled, evaluate, verdict, verdictOfFacts, states };
  // Translation rules put pf's NAT step in front of the filter; rulesets without any pay nothing (docs/adr/0150-nat-before-filtering.md).
  return compiled.source.nat !== undefined && compiled.source.nat.length > 0 ? withNat(filter, compiled.source) : filter;
}
