/**
 * @module Source conditions of a knoc: may this client address be granted? Pure; the ranges are compiled once
 * per knoc and the check is then a scan over a handful of prefixes (docs/adr/0073-source-conditions.md).
 *
 * Denied ranges win over allowed ranges. An empty allowed list allows every address. A v4-mapped IPv6 address
 * is checked as its IPv4 form, so `::ffff:10.0.0.1` is inside `10.0.0.0/8`.
 */
import { ValidationError } from '../errors.ts';
import { type Cidr, cidrContains, formatCidr, parseCidrResult, parseIp, unmapIpv4 } from '../net/ip.ts';

export interface SourceConditions {
  allowed: readonly Cidr[];
  denied: readonly Cidr[];
}

type SourceDecision =
  | { ok: true }
  | { ok: false; reason: 'denied'; range: string }
  | { ok: false; reason: 'not_allowed' }
  | { ok: false; reason: 'invalid_address' };

/**
 * Compiles the knoc fields `allowed_sources` / `denied_sources`; a bad entry throws a `ValidationError` naming
 * the field and index (`allowed_sources.2`). Host bits are cleared (`10.0.0.1/8` means `10.0.0.0/8`).
 */
export function compileSourceConditions(
  allowed: readonly string[],
  denied: readonly string[],
): SourceConditions {
  return { allowed: compileList('allowed_sources', allowed), denied: compileList('denied_sources', denied) };
}

function compileList(field: string, texts: readonly string[]): Cidr[] {
  return texts.map((text, index) => {
    const result = parseCidrResult(text.trim());
    if (!result.ok) throw new ValidationError(`${field}.${index}`, `${field}[${index}]: ${result.reason}`);
    return result.cidr;
  });
}

/** Decides whether `ip` may be granted under `conditions`. */
export function checkSource(ip: string, conditions: SourceConditions): SourceDecision {
  const parsed = parseIp(ip);
  if (parsed === null) return { ok: false, reason: 'invalid_address' };
  const address = unmapIpv4(parsed);
  const deniedBy = conditions.denied.find((range) => cidrContains(range, address));
  if (deniedBy !== undefined) return { ok: false, reason: 'denied', range: formatCidr(deniedBy) };
  if (conditions.allowed.length > 0 && !conditions.allowed.some((range) => cidrContains(range, address))) {
    return { ok: false, reason: 'not_allowed' };
  }
  return { ok: true };
}
