/**
 * @module The two hook points of the pending-change engine (src/firewall/pending.ts), each one function the
 * engine calls at exactly one place:
 *
 * - `semanticPreview` runs when a change to rules, aliases or NAT is staged: what the change newly passes and
 *   newly blocks against the gateway's live configuration, and whether it cuts the management path (lock-out
 *   `cut`, refused unless `override_lockout` with a reason). Until the policy engine's change preview is wired
 *   in here it answers "unavailable" with the reason, and the change is stored with `preview: null`.
 * - `applyGate` runs before changes are claimed for an apply, and before a forced write is stored (issue 12's
 *   policy tests): it throws a `DomainError` to refuse, and then nothing is claimed, stored or sent; until
 *   policy tests are wired in it lets every change through.
 */
import type { LiveGateway } from '../adapters/live.ts';
import type { LiveWrite } from '../adapters/live-write.ts';
import type { ServiceContext } from '../core/context.ts';

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

export async function semanticPreview(_input: PreviewInput): Promise<PreviewOutcome> {
  return {
    available: false,
    reason: 'the semantic preview of live writes is not available in this build',
  };
}

interface ApplyGateInput {
  ctx: ServiceContext;
  gatewayId: string;
  /** The changes about to be claimed (or the one forced write), in the order they will be written. */
  changes: ReadonlyArray<{ id: string; write: LiveWrite }>;
}

export async function applyGate(_input: ApplyGateInput): Promise<void> {
  // Every claimed change passes until issue 12's policy tests gate applies here.
}
