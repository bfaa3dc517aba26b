/**
 * @module Policy tests (issue 12 item 4): a declarative file of flows that must pass or must be blocked, optionally
 * "via" a named rule, checked against a ruleset (docs/policy.md "Policy tests", docs/adr/0153-policy-tests.md).
 * Pure: the caller reads the file and the configuration.
 *
 * File (JSON): `{ "version": 1, "flows": [ { "name", "interface", "direction"?, "protocol", "source",
 * "source_port"?, "destination", "destination_port"?, "tcp_flags"?, "icmp_type"?, "expect": "pass"|"block"|"reject",
 * "via"?, "comment"? } ] }`. A bad file is refused as a whole with every problem at once, each naming its path
 * (`flows[2].expect`) and, from text, its line.
 *
 * Each flow is judged as a new connection (an empty state table). A verdict the configuration alone cannot
 * decide (a dynamic alias, an interface address learned at run time) is `unknown`, never a pass.
 */
import type { CompiledRuleset } from './compiled.ts';
import { createEvaluator, type EvaluationResult, type Evaluator, type RuleRef, type Verdict } from './evaluate.ts';
import type { PfRuleset } from './model.ts';
import { type Packet, PacketError, packetFacts } from './packet.ts';

/** `block` is met by `block` and `reject` (neither lets the flow through); `reject` only by a reject with a reply. */
export type Expectation = 'pass' | 'block' | 'reject';

export interface FlowTest {
  name: string;
  packet: Packet;
  expect: Expectation;
  /** Tracker, label or description the deciding rule must carry; null = any rule. */
  via: string | null;
}

export interface PolicyTestSuite {
  flows: FlowTest[];
}

/** One problem in a test file: where (path, and line when read from text) and what. */
export interface PolicyTestIssue {
  path: string;
  line: number | null;
  message: string;
}

/** A test file that cannot be used; `issues` holds every problem found, `field` the first one's path. */
export class PolicyTestFileError extends Error {
  readonly issues: PolicyTestIssue[];
  readonly field: string;
  constructor(issues: PolicyTestIssue[]) {
    super(issues.map(formatIssue).join('; '));
    this.name = 'PolicyTestFileError';
    this.issues = issues;
    this.field = issues[0]?.path ?? '';
  }
}

/** `flows[2].expect (line 14): must be "pass", "block" or "reject"`. */
export function formatIssue(issue: PolicyTestIssue): string {
  const where = issue.path === '' ? 'file' : issue.path;
  return `${where}${issue.line === null ? '' : ` (line ${issue.line})`}: ${issue.message}`;
}

/** More flows than this in one file is refused: the API runs a file within one request. */
export const MAX_FLOWS = 10_000;
const MAX_TEXT = 200;

const FLOW_KEYS = new Set([
  'name',
  'comment',
  'interface',
  'direction',
  'protocol',
  'source',
  'source_port',
  'destination',
  'destination_port',
  'tcp_flags',
  'icmp_type',
  'expect',
  'via',
]);
const EXPECTATIONS: readonly Expectation[] = ['pass', 'block', 'reject'];

/** Packet fields (src/policy/packet.ts) as the file names them. */
const FILE_FIELD: Record<string, string> = {
  interface: 'interface',
  direction: 'direction',
  proto: 'protocol',
  src: 'source',
  srcPort: 'source_port',
  dst: 'destination',
  dstPort: 'destination_port',
  tcpFlags: 'tcp_flags',
  icmpType: 'icmp_type',
  af: 'destination',
};

/** A packet error's message in the file's vocabulary (`dstPort must be …` → `destination_port must be …`). */
function inFileTerms(message: string): string {
  return message.replace(/\b(srcPort|dstPort|tcpFlags|icmpType|src|dst|proto)\b/g, (word) => FILE_FIELD[word] ?? word);
}

/**
 * The line (1-based) of every value of a JSON text by path (`flows[2].expect`; the root is `''`). The text must
 * already have parsed; JSON strings hold no raw line breaks, so only whitespace between tokens counts lines.
 */
function jsonValueLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const skipSpace = () => {
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') return;
    }
  };
  const readString = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const readValue = (path: string): void => {
    skipSpace();
    lines.set(path, line);
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      skipSpace();
      if (text[i] === close) {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        skipSpace();
        if (c === '{') {
          const key = readString();
          skipSpace();
          i++; // the colon
          readValue(path === '' ? key : `${path}.${key}`);
        } else {
          readValue(`${path}[${n}]`);
        }
        skipSpace();
        if (text[i++] === close) return;
      }
    }
    if (c === '"') {
      readString();
      return;
    }
    while (i < text.length && !/[\s,\]}]/.test(text[i] as string)) i++;
  };
  readValue('');
  return lines;
}

/** The line of a JSON syntax error, from V8's message (`at position 42`, `(line 3 column 5)`, `end of JSON input`). */
function syntaxErrorLine(text: string, message: string): number | null {
  const byLine = /line (\d+)/.exec(message);
  if (byLine) return Number(byLine[1]);
  // The text ended inside a value: the problem is on its last line.
  if (/end of JSON input/.test(message)) return text.split('\n').length;
  const byPosition = /position (\d+)/.exec(message);
  if (!byPosition) return null;
  return text.slice(0, Number(byPosition[1])).split('\n').length;
}

/** The line of `path`, or of the nearest enclosing value that has one (a missing key: the object lacking it). */
function lineOf(lines: ReadonlyMap<string, number>, path: string): number | null {
  let at = path;
  for (;;) {
    const line = lines.get(at);
    if (line !== undefined) return line;
    if (at === '') return null;
    const parent = at.replace(/(\.[^.[]*|\[\d+\])$/, '');
    at = parent === at ? '' : parent;
  }
}

/** Reads a test file from its JSON text; problems carry line numbers. Throws `PolicyTestFileError`. */
export function parsePolicyTestsText(text: string): PolicyTestSuite {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    throw new PolicyTestFileError([
      { path: '', line: syntaxErrorLine(text, message), message: `not valid JSON (${message})` },
    ]);
  }
  return parsePolicyTests(value, jsonValueLines(text));
}

/**
 * Validates a parsed test file. Every problem is collected before anything is refused. `lines` (from
 * `parsePolicyTestsText`) adds line numbers. Throws `PolicyTestFileError`.
 */
export function parsePolicyTests(value: unknown, lines: ReadonlyMap<string, number> = new Map()): PolicyTestSuite {
  const issues: PolicyTestIssue[] = [];
  const issue = (path: string, message: string) => issues.push({ path, line: lineOf(lines, path), message });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PolicyTestFileError([{ path: '', line: null, message: 'must be an object {"version": 1, "flows": [...]}' }]);
  }
  const root = value as Record<string, unknown>;
  for (const key of Object.keys(root)) {
    if (key !== 'version' && key !== 'flows') issue(key, 'unknown key (expected "version", "flows")');
  }
  if (root.version !== undefined && root.version !== 1) issue('version', 'must be 1');
  if (!Array.isArray(root.flows)) {
    issue('flows', 'must be an array of flows');
    throw new PolicyTestFileError(issues);
  }
  if (root.flows.length > MAX_FLOWS) issue('flows', `at most ${MAX_FLOWS} flows per file (got ${root.flows.length})`);
  const names = new Map<string, number>();
  const flows: FlowTest[] = [];
  root.flows.forEach((raw: unknown, n) => {
    const at = `flows[${n}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      issue(at, 'must be an object');
      return;
    }
    const flow = raw as Record<string, unknown>;
    const before = issues.length;
    for (const key of Object.keys(flow)) {
      if (!FLOW_KEYS.has(key)) issue(`${at}.${key}`, `unknown key (expected one of ${[...FLOW_KEYS].join(', ')})`);
    }
    const text = (key: string, required: boolean): string | null => {
      const v = flow[key];
      if (v === undefined) {
        if (required) issue(`${at}.${key}`, 'is required');
        return null;
      }
      if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_TEXT) {
        issue(`${at}.${key}`, `must be a non-empty string of at most ${MAX_TEXT} characters`);
        return null;
      }
      return v.trim();
    };
    const name = text('name', true);
    if (name !== null) {
      const first = names.get(name);
      if (first !== undefined) issue(`${at}.name`, `duplicate of flows[${first}].name "${name}"`);
      else names.set(name, n);
    }
    text('comment', false);
    const via = text('via', false);
    const expect = flow.expect;
    if (!EXPECTATIONS.includes(expect as Expectation)) {
      issue(`${at}.expect`, `must be "pass", "block" or "reject" (got ${JSON.stringify(expect ?? null)})`);
    }
    const missing = ['interface', 'protocol', 'source', 'destination'].filter((key) => flow[key] === undefined);
    for (const key of missing) issue(`${at}.${key}`, 'is required');
    const packet: Packet = {
      interface: flow.interface as string,
      direction: (flow.direction ?? 'in') as Packet['direction'],
      proto: flow.protocol as string,
      src: flow.source as string,
      dst: flow.destination as string,
      srcPort: flow.source_port as number | undefined,
      dstPort: flow.destination_port as number | undefined,
      tcpFlags: flow.tcp_flags as string | undefined,
      icmpType: flow.icmp_type as string | undefined,
    };
    if (missing.length === 0) {
      try {
        packetFacts(packet);
      } catch (error) {
        if (!(error instanceof PacketError)) throw error;
        const field = FILE_FIELD[error.field];
        issue(field === undefined ? at : `${at}.${field}`, inFileTerms(error.message));
      }
    }
    if (issues.length === before) {
      flows.push({ name: name as string, packet, expect: expect as Expectation, via });
    }
  });
  if (issues.length > 0) throw new PolicyTestFileError(issues);
  return { flows };
}

/**
 * `ok`: verdict (and rule, with `via`) as expected; `failed`: not; `unknown`: run-time contents decide;
 * `error`: the flow does not fit this configuration (an interface it does not have).
 */
export type FlowStatus = 'ok' | 'failed' | 'unknown' | 'error';

export interface FlowTestResult {
  name: string;
  ok: boolean;
  status: FlowStatus;
  expected: Expectation;
  via: string | null;
  /** Null when the flow could not be evaluated (`error`). */
  verdict: Verdict | null;
  decidedBy: EvaluationResult['decidedBy'] | null;
  /** The deciding rule; null for pf's default pass, an error, or an unknown verdict. */
  rule: RuleRef | null;
  /** The flow as evaluated, one line (the flow's own fields when it could not be evaluated). */
  packet: string;
  /** Why it is (not) as expected, one sentence. */
  why: string;
  /** The evaluator's paragraph, for flows that are not `ok`; null for `ok` flows. */
  explanation: string | null;
}

export interface PolicyTestReport {
  /** Every flow is `ok` (an empty file passes). */
  passed: boolean;
  total: number;
  counts: Record<FlowStatus, number>;
  results: FlowTestResult[];
}

/** `lan #3 "Allow web" [tracker 17]`, `system rule "Default deny rule IPv4"`, or pf's default pass. */
export function describeDecidingRule(rule: RuleRef | null): string {
  if (rule === null) return 'the default pass (no rule matches)';
  const tracker = rule.tracker ? ` [tracker ${rule.tracker}]` : '';
  const name = rule.descr || rule.label || '';
  return rule.kind === 'user'
    ? `${rule.tab} #${rule.position} "${name}"${tracker}`
    : `system rule "${name}"${tracker}`;
}

function ruleCarries(rule: RuleRef | null, via: string): boolean {
  return rule !== null && (rule.tracker === via || rule.label === via || rule.descr.trim() === via);
}

function verdictMeets(verdict: Verdict, expected: Expectation): boolean {
  return expected === 'block' ? verdict === 'block' || verdict === 'reject' : verdict === expected;
}

function judge(flow: FlowTest, result: EvaluationResult): { status: FlowStatus; why: string } {
  const by = describeDecidingRule(result.rule);
  if (result.verdict === 'unknown') {
    return {
      status: 'unknown',
      why: `expected ${flow.expect}, but the verdict depends on run-time contents (give them as facts)`,
    };
  }
  if (!verdictMeets(result.verdict, flow.expect)) {
    return { status: 'failed', why: `expected ${flow.expect}, got ${result.verdict} by ${by}` };
  }
  if (flow.via === null) return { status: 'ok', why: `${result.verdict} by ${by}` };
  const via = flow.via;
  if (result.ruleCertain === false && result.possibilities !== undefined) {
    // The verdict is known but which rule decides depends on run-time contents.
    const carrying = result.possibilities.filter((p) => ruleCarries(p.rule, via)).length;
    if (carrying === result.possibilities.length) return { status: 'ok', why: `${result.verdict} via "${via}" whatever the run-time contents` };
    if (carrying > 0) {
      return { status: 'unknown', why: `${result.verdict} as expected, but whether "${via}" decides depends on run-time contents` };
    }
  }
  if (ruleCarries(result.rule, via)) return { status: 'ok', why: `${result.verdict} via ${by}` };
  return { status: 'failed', why: `${result.verdict} as expected, but by ${by}, not via "${via}"` };
}

/** The flow's own fields in one line, for a flow that could not be evaluated. */
function flowLine(packet: Packet): string {
  const port = (p: Packet['srcPort']) => (p === undefined || p === null ? '' : `:${p}`);
  return `${packet.interface} ${packet.direction} ${packet.proto} ${packet.src}${port(packet.srcPort)} -> ${packet.dst}${port(packet.dstPort)}`;
}

function runFlow(evaluator: Evaluator, flow: FlowTest): FlowTestResult {
  const base = { name: flow.name, expected: flow.expect, via: flow.via };
  // Every flow is a new connection: no state left by an earlier flow may pass it.
  evaluator.states.clear();
  let result: EvaluationResult;
  try {
    result = evaluator.evaluate(flow.packet, { trace: false });
  } catch (error) {
    if (!(error instanceof PacketError)) throw error;
    return {
      ...base,
      ok: false,
      status: 'error',
      verdict: null,
      decidedBy: null,
      rule: null,
      packet: flowLine(flow.packet),
      why: inFileTerms(error.message),
      explanation: null,
    };
  }
  const { status, why } = judge(flow, result);
  let explanation: string | null = null;
  if (status !== 'ok') {
    // Only flows that need a reader pay for the evaluator's explanation (a second, traced evaluation).
    evaluator.states.clear();
    explanation = evaluator.evaluate(flow.packet).explanation;
  }
  return {
    ...base,
    ok: status === 'ok',
    status,
    verdict: result.verdict,
    decidedBy: result.decidedBy,
    rule: result.rule,
    packet: result.packet,
    why,
    explanation,
  };
}

/** Runs every flow of `suite` against `ruleset` (one evaluator, a fresh state table per flow). */
export function runPolicyTests(ruleset: PfRuleset | CompiledRuleset, suite: PolicyTestSuite): PolicyTestReport {
  const evaluator = createEvaluator(ruleset);
  const results = suite.flows.map((flow) => runFlow(evaluator, flow));
  const counts: Record<FlowStatus, number> = { ok: 0, failed: 0, unknown: 0, error: 0 };
  for (const result of results) counts[result.status]++;
  return { passed: counts.ok === results.length, total: results.length, counts, results };
}
