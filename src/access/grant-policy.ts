/**
 * @module Grant rules that need no store: lifetimes against the knoc's default and maximum, source conditions at
 * sign-in, extension, and the knoc's own limits. Pure; `now` is passed in (epoch ms). Errors are
 * `ValidationError`s naming the input field.
 */
import { ValidationError } from '../errors.ts';
import { canonicalAddress } from '../net/client-ip.ts';
import { checkSource, type SourceConditions } from './source-conditions.ts';

/** The knoc fields grant decisions read. */
export interface KnocGrantPolicy {
  id: string;
  name: string;
  grantTtlSeconds: number;
  maxTtlSeconds: number;
  sources: SourceConditions;
}

function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ValidationError(field, `${field} must be a whole number of seconds, at least 1`);
  }
  return value;
}

/** Checks a knoc's `grant_ttl_seconds` and `max_ttl_seconds`: positive whole seconds, default ≤ maximum. */
export function validateKnocLifetimes(grantTtlSeconds: unknown, maxTtlSeconds: unknown): void {
  const ttl = positiveInteger('grant_ttl_seconds', grantTtlSeconds);
  const max = positiveInteger('max_ttl_seconds', maxTtlSeconds);
  if (ttl > max) {
    throw new ValidationError(
      'grant_ttl_seconds',
      `grant_ttl_seconds (${ttl}) must not exceed max_ttl_seconds (${max})`,
    );
  }
}

/** The lifetime of a new or extended grant: the request (≤ the knoc maximum) or the knoc default. */
export function resolveTtlSeconds(requested: unknown, knoc: KnocGrantPolicy, field = 'ttl_seconds'): number {
  if (requested === undefined || requested === null) return knoc.grantTtlSeconds;
  const ttl = positiveInteger(field, requested);
  if (ttl > knoc.maxTtlSeconds) {
    throw new ValidationError(
      field,
      `${field} (${ttl}) exceeds the maximum of knoc ${knoc.name} (${knoc.maxTtlSeconds})`,
    );
  }
  return ttl;
}

type SourceRefusal = 'source_denied' | 'source_not_allowed' | 'invalid_address';

interface GrantRefusal {
  knocId: string;
  knoc: string;
  reason: SourceRefusal;
  message: string;
}

/** Whether `ip` may be granted on `knoc`, with a reason a person can read when not. */
export function checkGrantSource(knoc: KnocGrantPolicy, ip: string): GrantRefusal | null {
  const decision = checkSource(ip, knoc.sources);
  if (decision.ok) return null;
  const base = { knocId: knoc.id, knoc: knoc.name };
  switch (decision.reason) {
    case 'denied':
      return {
        ...base,
        reason: 'source_denied',
        message: `${ip} is in ${decision.range}, which knoc ${knoc.name} denies`,
      };
    case 'not_allowed':
      return {
        ...base,
        reason: 'source_not_allowed',
        message: `${ip} is outside the source ranges knoc ${knoc.name} allows`,
      };
    default:
      return { ...base, reason: 'invalid_address', message: `${ip} is not an IP address` };
  }
}

interface PlannedGrant {
  knocId: string;
  ip: string;
  expiresAt: number;
}

/**
 * Sign-in: one grant per knoc whose source conditions allow the client (default lifetime each), the others
 * refused with their reason. The address is canonical (IPv4 for v4-mapped).
 */
export function planSignInGrants(
  knocs: readonly KnocGrantPolicy[],
  clientIp: string,
  now: number,
): { granted: PlannedGrant[]; refused: GrantRefusal[] } {
  const ip = canonicalAddress(clientIp) ?? clientIp;
  const granted: PlannedGrant[] = [];
  const refused: GrantRefusal[] = [];
  for (const knoc of knocs) {
    const refusal = checkGrantSource(knoc, ip);
    if (refusal !== null) refused.push(refusal);
    else granted.push({ knocId: knoc.id, ip, expiresAt: now + knoc.grantTtlSeconds * 1_000 });
  }
  return { granted, refused };
}

/** New `expires_at` of an extended grant: `now + ttl` (ttl ≤ the knoc maximum); an ended grant cannot be extended. */
export function extendedExpiry(
  grant: { endedAt?: number | null; expiresAt: number },
  requestedTtl: unknown,
  knoc: KnocGrantPolicy,
  now: number,
): number {
  if ((grant.endedAt !== undefined && grant.endedAt !== null) || grant.expiresAt <= now) {
    throw new ValidationError('id', 'the grant has already ended; create a new one');
  }
  return now + resolveTtlSeconds(requestedTtl, knoc) * 1_000;
}
