/**
 * @module Signed decision links for access requests (docs/access-requests.md, ADR 0231). A link carries one
 * request, one approver, one decision and an expiry, MAC'd with the keyring (`Keyring.mac`, purpose
 * `access-request-decision`): `<base64url(JSON)>.<kid>.<mac>`. Verifying proves the server made it and it is
 * unchanged and unexpired; that it is used once follows from the store (one decision per approver and request,
 * none once the request is decided), checked where the decision is written.
 */
import { DecisionLinkError } from '../errors.ts';
import type { Keyring } from '../secrets/keyring.ts';

const PURPOSE = 'access-request-decision';

export type Decision = 'approve' | 'deny';

export interface DecisionClaim {
  requestId: string;
  approverId: string;
  decision: Decision;
  /** Epoch milliseconds after which the link is refused. */
  expiresAt: number;
}

interface WireClaim {
  v: 1;
  r: string;
  a: string;
  d: Decision;
  e: number;
}

export function signDecisionLink(keyring: Keyring, claim: DecisionClaim): string {
  const wire: WireClaim = { v: 1, r: claim.requestId, a: claim.approverId, d: claim.decision, e: claim.expiresAt };
  const body = Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url');
  return `${body}.${keyring.mac(PURPOSE, body)}`;
}

function isWireClaim(value: unknown): value is WireClaim {
  if (typeof value !== 'object' || value === null) return false;
  const claim = value as Record<string, unknown>;
  return (
    claim.v === 1 &&
    typeof claim.r === 'string' &&
    typeof claim.a === 'string' &&
    (claim.d === 'approve' || claim.d === 'deny') &&
    typeof claim.e === 'number'
  );
}

/** The claim of a link this server signed, unchanged (expired or not); a `DecisionLinkError` otherwise. */
export function openDecisionLink(keyring: Keyring, token: string): DecisionClaim {
  const dot = token.indexOf('.');
  const body = token.slice(0, dot);
  if (dot < 1 || !keyring.verifyMac(PURPOSE, body, token.slice(dot + 1))) {
    throw new DecisionLinkError('the decision link does not verify', 'invalid_signature');
  }
  let wire: unknown;
  try {
    wire = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    wire = null;
  }
  // A verified body is ours, so this only guards against a format from another version.
  if (!isWireClaim(wire)) throw new DecisionLinkError('the decision link does not verify', 'invalid_signature');
  return { requestId: wire.r, approverId: wire.a, decision: wire.d, expiresAt: wire.e };
}

/** Refuses an opened link past its expiry at `now` (separate, so a refusal can still name what it was for). */
export function requireUnexpired(claim: DecisionClaim, now: Date): void {
  if (claim.expiresAt <= now.getTime()) throw new DecisionLinkError('the decision link has expired', 'expired');
}
