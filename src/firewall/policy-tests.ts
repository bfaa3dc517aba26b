/**
 * @module The policy tests of a gateway (issue 12 item 4, docs/policy.md "Policy tests",
 * docs/adr/0153-policy-tests.md): one stored document per gateway — flows that must pass or be blocked, optionally
 * via a named rule — and the gate the pending-change engine runs on the configuration a change would leave
 * behind: `runGatewayPolicyTests` answers whether every flow is still as expected, and which are not.
 */
import { eq } from 'drizzle-orm';
import { record } from '../audit/record.ts';
import { inTransaction, type ServiceContext } from '../core/context.ts';
import { ValidationError } from '../errors.ts';
import { applyConfigFacts, applyTableFacts, type RuntimeFacts } from '../policy/facts.ts';
import { generateRuleset } from '../policy/generate/index.ts';
import type { PfRuleset, PolicyConfig } from '../policy/model.ts';
import {
  type FlowTestResult,
  formatIssue,
  parsePolicyTests,
  PolicyTestFileError,
  type PolicyTestReport,
  type PolicyTestSuite,
  runPolicyTests,
} from '../policy/tests.ts';
import { policyTests } from '../store/schema/policy.ts';
import { getGateway } from './gateways.ts';

/** A gateway's stored tests; a gateway that never had any reads as an empty document. */
export interface GatewayPolicyTests {
  gatewayId: string;
  siteId: string;
  document: { version: 1; flows: Array<Record<string, unknown>> };
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** What the gate answers for one after-configuration. */
export interface PolicyTestGate {
  /** Every stored flow is as expected (true when the gateway has no tests). */
  passed: boolean;
  /** How many flows ran. */
  tested: number;
  /** The flows that are not `ok`: failed, unknown (run-time contents decide) or not in the configuration. */
  failures: FlowTestResult[];
  report: PolicyTestReport;
}

/** Checks a document; every problem at once, the first one's path as the field. */
function validated(document: unknown): PolicyTestSuite {
  try {
    return parsePolicyTests(document);
  } catch (error) {
    if (!(error instanceof PolicyTestFileError)) throw error;
    throw new ValidationError(error.field, error.issues.map(formatIssue).join('; '));
  }
}

/** Flows named in an audit entry; a file may hold thousands, the entry says how many and names the first. */
const AUDITED_NAMES = 100;

function summary(flows: ReadonlyArray<Record<string, unknown>>): { flows: number; names: unknown[] } {
  return { flows: flows.length, names: flows.slice(0, AUDITED_NAMES).map((flow) => flow.name) };
}

async function storedDocument(ctx: ServiceContext, gatewayId: string) {
  const [row] = await ctx.db.select().from(policyTests).where(eq(policyTests.deviceId, gatewayId)).limit(1);
  return row;
}

/** The gateway's tests (404 for an unknown gateway, like `getGateway`). */
export async function getGatewayPolicyTests(ctx: ServiceContext, gatewayId: string): Promise<GatewayPolicyTests> {
  const gateway = await getGateway(ctx, gatewayId);
  const row = await storedDocument(ctx, gateway.id);
  return {
    gatewayId: gateway.id,
    siteId: gateway.siteId,
    document: (row?.document as GatewayPolicyTests['document'] | undefined) ?? { version: 1, flows: [] },
    updatedAt: row?.updatedAt ?? null,
    updatedBy: row?.updatedBy ?? null,
  };
}

/** Replaces the gateway's tests with `document` (validated as a whole; 400 naming the first field), audited. */
export async function saveGatewayPolicyTests(
  ctx: ServiceContext,
  gatewayId: string,
  document: unknown,
): Promise<GatewayPolicyTests> {
  const gateway = await getGateway(ctx, gatewayId);
  validated(document);
  const flows = (document as { flows: Array<Record<string, unknown>> }).flows;
  const saved = { version: 1 as const, flows };
  return inTransaction(ctx, async (tx) => {
    const before = await storedDocument(tx, gateway.id);
    const now = tx.now();
    await tx.db
      .insert(policyTests)
      .values({ deviceId: gateway.id, orgId: tx.orgId, siteId: gateway.siteId, document: saved, updatedAt: now, updatedBy: tx.actor.id })
      .onConflictDoUpdate({ target: policyTests.deviceId, set: { document: saved, updatedAt: now, updatedBy: tx.actor.id } });
    await record(tx.db, {
      orgId: tx.orgId,
      actor: tx.actor,
      action: 'policy_tests.update',
      targetType: 'gateway',
      targetId: gateway.id,
      siteId: gateway.siteId,
      before: before === undefined ? null : summary((before.document as GatewayPolicyTests['document']).flows),
      after: summary(flows),
    });
    return { gatewayId: gateway.id, siteId: gateway.siteId, document: saved, updatedAt: now, updatedBy: tx.actor.id };
  });
}

/** The ruleset of an after-configuration, with run-time facts applied where they fit (tables only, to a ruleset). */
function afterRuleset(after: PolicyConfig | PfRuleset, facts: RuntimeFacts | undefined): PfRuleset {
  if ('statePolicy' in after) return facts === undefined ? after : applyTableFacts(after, facts).ruleset;
  if (facts === undefined) return generateRuleset(after);
  return applyTableFacts(generateRuleset(applyConfigFacts(after, facts).config), facts).ruleset;
}

/** The configuration a change would leave behind: the policy model or its generated ruleset. */
type AfterConfig = PolicyConfig | PfRuleset;

/**
 * The gate of the pending-change engine: runs the gateway's stored tests against `after` — the configuration
 * the change would leave on the gateway. `after` may be a function, called only when the gateway has tests, so a
 * gateway without any costs no read of its live configuration. `facts` (what the gateway knows at run time: DHCP
 * addresses, DNS answers, table contents) turn `unknown` flows into definite ones; to a ruleset only table
 * contents can still be applied. The caller decides what a failure means (apply refused unless overridden with
 * a reason).
 */
export async function runGatewayPolicyTests(
  ctx: ServiceContext,
  gatewayId: string,
  after: AfterConfig | (() => Promise<AfterConfig>),
  options: { facts?: RuntimeFacts } = {},
): Promise<PolicyTestGate> {
  const { document } = await getGatewayPolicyTests(ctx, gatewayId);
  const suite = validated(document);
  if (suite.flows.length === 0) {
    const report = { passed: true, total: 0, counts: { ok: 0, failed: 0, unknown: 0, error: 0 }, results: [] };
    return { passed: true, tested: 0, failures: [], report };
  }
  const config = typeof after === 'function' ? await after() : after;
  const report = runPolicyTests(afterRuleset(config, options.facts), suite);
  return {
    passed: report.passed,
    tested: report.total,
    failures: report.results.filter((result) => !result.ok),
    report,
  };
}
