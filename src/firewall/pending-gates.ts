/**
 * @module The two hook points of the pending-change engine (src/firewall/pending.ts), each one function the
 * engine calls at exactly one place:
 *
 * - `semanticPreview` runs when a change to rules, aliases or NAT is staged: what the change newly passes and
 *   newly blocks against the gateway's live configuration, and whether it cuts the management path (lock-out
 *   `cut`, refused unless `override_lockout` with a reason) — src/firewall/preview.ts, docs/firewall.md
 *   "Semantic preview of a change".
 * - `applyGate` runs before changes are claimed for an apply, and before a forced write is stored: the gateway's
 *   policy tests (src/firewall/policy-tests.ts, docs/policy.md "Policy tests") run on the configuration the
 *   changes would leave; a failing or unknown flow refuses (409 `PC_ERR_POLICY_TESTS`) unless `override_tests`
 *   with a reason, which is audited. A refusal throws before anything is claimed, stored or sent.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { LiveGateway } from '../adapters/live.ts';
import type { LiveWrite } from '../adapters/live-write.ts';
import { record } from '../audit/record.ts';
import type { ServiceContext } from '../core/context.ts';
import { DomainError, PolicyTestsError } from '../errors.ts';
import { knocs } from '../store/schema/access.ts';
import { getGateway } from './gateways.ts';
import { runGatewayPolicyTests } from './policy-tests.ts';
import { previewLiveChange, readLiveSnapshot, rulesetAfter } from './preview.ts';

/** The lock-out check's verdict on the management path after the change. */
export type LockoutVerdict = 'safe' | 'cut' | 'unknown';

export type PreviewOutcome =
  | {
      available: true;
      lockout: LockoutVerdict;
      /** Newly passing / newly blocked regions and the lock-out detail, as the preview computes them. */
      preview: Record<string, unknown>;
    }
  | { available: false; reason: string };

interface PreviewInput {
  ctx: ServiceContext;
  gatewayId: string;
  write: LiveWrite;
  /** The gateway's live reads, to fetch the configuration the change is judged against. */
  live: () => LiveGateway;
}

export async function semanticPreview(input: PreviewInput): Promise<PreviewOutcome> {
  const gateway = await getGateway(input.ctx, input.gatewayId);
  // The knocs of the gateway: a change that widens what one of them opens says so in its preview.
  const watched = await input.ctx.db
    .select({ alias: knocs.aliasName, label: knocs.name })
    .from(knocs)
    .where(and(eq(knocs.orgId, input.ctx.orgId), eq(knocs.gatewayId, gateway.id), isNull(knocs.deletedAt)));
  let preview;
  try {
    preview = await previewLiveChange(input.live(), input.write, {
      gatewayUrl: gateway.url,
      ...(gateway.managementSource === null ? {} : { source: gateway.managementSource }),
      ...(gateway.managementInterface === null ? {} : { interface: gateway.managementInterface }),
      watch: watched.map(({ alias, label }) => ({ alias, label: `knoc ${label}` })),
    });
  } catch (err) {
    // A change naming what the device does not hold is the caller's mistake (400); a failed read is not.
    if (err instanceof DomainError && err.status < 500) throw err;
    return { available: false, reason: `the live configuration could not be read: ${(err as Error).message}` };
  }
  if (preview === null) return { available: false, reason: 'this kind of change cannot alter what the filter passes' };
  const status = preview.lockout.status;
  return {
    available: true,
    lockout: status === 'cut' ? 'cut' : status === 'passes' ? 'safe' : 'unknown',
    preview: preview as unknown as Record<string, unknown>,
  };
}

interface ApplyGateInput {
  ctx: ServiceContext;
  gatewayId: string;
  /** The changes about to be claimed (or the one forced write), in the order they will be written. */
  changes: ReadonlyArray<{ id: string; write: LiveWrite }>;
  /** The gateway's live reads (the configuration the changes are written onto), when the vendor has them. */
  live: (() => LiveGateway) | null;
  /** `override_tests` with its reason: failing tests are recorded, not refused. */
  overrideTests: { reason: string } | null;
}

export async function applyGate(input: ApplyGateInput): Promise<void> {
  const { ctx, gatewayId, changes, live } = input;
  const gate = await runGatewayPolicyTests(ctx, gatewayId, async () => {
    if (live === null) {
      throw new PolicyTestsError('the gateway has policy tests but its configuration cannot be read to run them');
    }
    return rulesetAfter(await readLiveSnapshot(live()), changes.map((change) => change.write));
  });
  if (gate.passed) return;
  const names = gate.failures.map((f) => `${f.name} (${f.status}: expected ${f.expected}, got ${f.verdict})`);
  if (input.overrideTests === null) {
    throw new PolicyTestsError(
      `${gate.failures.length} of ${gate.tested} policy tests of the gateway fail on the configuration these changes leave: ${names.slice(0, 10).join('; ')}${names.length > 10 ? '; …' : ''}. Fix the change, or apply with override_tests=true and an override_reason.`,
    );
  }
  const gatewayRow = await getGateway(ctx, gatewayId);
  await record(ctx.db, {
    orgId: ctx.orgId,
    actor: ctx.actor,
    action: 'pending_change.override_tests',
    targetType: 'gateway',
    targetId: gatewayId,
    siteId: gatewayRow.siteId,
    after: { changes: changes.map((c) => c.id), reason: input.overrideTests.reason, failures: names },
  });
}
