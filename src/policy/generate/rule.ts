/**
 * @module Building `PfRule`s with pf's defaults filled in, shared by the system and user rule generators.
 */
import type { AddressSpec, PfRule, RuleOrigin, StateType, TcpFlags } from '../model.ts';

/** A rule before it gets its place in the ruleset. */
export type DraftRule = Omit<PfRule, 'index'>;

/** The fields a generator must decide; everything else defaults to pf's "not specified". */
export type RuleFields = Partial<DraftRule> & Pick<DraftRule, 'action' | 'origin'>;

export const ANY: AddressSpec = { match: { kind: 'any' }, negate: false };

/** `from`/`to` a literal CIDR list. */
export function cidrs(list: string[], negate = false): AddressSpec {
  return { match: { kind: 'cidrs', cidrs: list }, negate };
}

/** `from`/`to` a table. */
export function table(name: string, negate = false): AddressSpec {
  return { match: { kind: 'table', table: name }, negate };
}

/**
 * pfctl's implicit `flags S/SA` on every stateful rule that can match TCP (docs/reference/pf-semantics.md §2.4): a pass with a
 * state and either no protocol or tcp among its protocols, and no flags clause of its own.
 */
export function implicitFlags(
  action: DraftRule['action'],
  state: StateType | null,
  protocols: string[] | null,
): TcpFlags | null {
  if (action !== 'pass' || state === null || state === 'none') return null;
  if (protocols !== null && !protocols.includes('tcp')) return null;
  return { set: 'S', outOf: 'SA', implicit: true };
}

/** Fills pf defaults: no direction = both, non-quick, any address, pass keeps state. */
export function draftRule(fields: RuleFields): DraftRule {
  const state = fields.state !== undefined ? fields.state : fields.action === 'pass' ? 'keep' : null;
  const protocols = fields.protocols ?? null;
  return {
    direction: 'any',
    quick: false,
    log: false,
    on: null,
    af: null,
    protocols,
    from: ANY,
    fromPort: null,
    to: ANY,
    toPort: null,
    icmpTypes: null,
    allowOpts: false,
    label: null,
    extraLabels: [],
    tracker: null,
    ridentifier: null,
    ...fields,
    state,
    tcpFlags:
      fields.tcpFlags !== undefined ? fields.tcpFlags : implicitFlags(fields.action, state, protocols),
  };
}

/** Origin of a generated rule; positions are numbered once the ruleset is assembled. */
export function systemOrigin(systemKey: NonNullable<RuleOrigin['systemKey']>, descr: string): RuleOrigin {
  return { kind: 'system', tab: 'system', position: 0, descr, systemKey };
}
