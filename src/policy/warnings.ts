/**
 * @module The stable catalog of policy import/generation warnings and the input error. Anything the engine does
 * not support, cannot resolve or leaves out is reported with one of these codes — never silently dropped
 * (docs/adr/0047). Codes are never reused; docs/policy.md lists them and test/policy/warnings.test.ts keeps the
 * two in sync.
 */
import type { PolicyWarning, WarningSeverity } from './model.ts';

/** Every warning code with its severity and what it means. */
export const WARNING_CATALOG = {
  POL001: { severity: 'info', meaning: 'rule is disabled; pfSense leaves it out of the ruleset' },
  POL002: {
    severity: 'error',
    meaning: 'rule refers to an interface or tab that does not exist or is disabled; rule left out',
  },
  POL003: {
    severity: 'error',
    meaning: 'floating rule lists no enabled interface; rule left out (redmine #11688)',
  },
  POL004: {
    severity: 'error',
    meaning: 'rule refers to an alias that cannot be resolved; rule left out, traffic falls through',
  },
  POL005: { severity: 'error', meaning: 'rule port refers to a missing or empty port alias; rule left out' },
  POL006: {
    severity: 'error',
    meaning: 'rule address resolves to nothing (interface without an address of that family); rule left out',
  },
  POL007: {
    severity: 'warning',
    meaning: 'rule has a schedule; pfSense loads it only while the schedule is active',
  },
  POL008: {
    severity: 'warning',
    meaning: 'rule option is kept for printing but has no modelled effect on verdicts',
  },
  POL010: {
    severity: 'warning',
    meaning: 'rule uses tags; tag/tagged semantics depend on other rules and NAT',
  },
  POL011: {
    severity: 'info',
    meaning: 'rule type is not pass/block/reject/match; imported as pass (legacy default)',
  },
  POL012: {
    severity: 'warning',
    meaning: 'rule references a dynamic (url/urltable/FQDN) alias; verdicts may be unknown',
  },
  POL020: { severity: 'error', meaning: 'alias has a numeric-only name; pfSense skips it (redmine #4289)' },
  POL021: {
    severity: 'warning',
    meaning: 'alias holds FQDNs; pfSense resolves them at run time, contents are dynamic',
  },
  POL022: {
    severity: 'info',
    meaning: 'URL or URL-table alias; contents are downloaded at run time and are dynamic',
  },
  POL023: {
    severity: 'warning',
    meaning: 'alias nesting forms a cycle; the repeated alias is expanded once',
  },
  POL024: {
    severity: 'error',
    meaning: 'alias entry is neither an address, a network, a range, a port nor a name; entry left out',
  },
  POL025: {
    severity: 'warning',
    meaning: 'alias entry names no alias; pfSense treats it as a host name (dynamic)',
  },
  POL026: { severity: 'error', meaning: 'alias type is unknown; alias left out' },
  POL027: { severity: 'error', meaning: 'duplicate alias name; the later one is left out' },
  POL030: {
    severity: 'info',
    meaning: 'interface address is assigned at run time (DHCP, PPPoE, SLAAC, track6 ...); dynamic',
  },
  POL031: { severity: 'info', meaning: 'interface is disabled; it and its rules are left out' },
  POL032: {
    severity: 'warning',
    meaning: 'interface group lists an unknown or disabled member; member ignored',
  },
  POL033: {
    severity: 'info',
    meaning: 'IPv6 link-local interface addresses are unknown; antispoof link-local entries left out',
  },
  POL034: { severity: 'warning', meaning: 'virtual IP refers to an unknown interface; left out' },
  POL040: {
    severity: 'info',
    meaning: 'configuration section not modelled (NAT rules, captive portal, packages, ...)',
  },
  POL041: {
    severity: 'info',
    meaning: 'the <bogonsv6> table is downloaded at run time; its contents are dynamic',
  },
  POL042: {
    severity: 'warning',
    meaning: 'value in config.xml is malformed; the element is left out or defaulted',
  },
  POL043: {
    severity: 'warning',
    meaning:
      'IPsec peer given by DNS name (its rules use a run-time table, answers unknown) or on an unknown interface (left out)',
  },
  POL044: {
    severity: 'warning',
    meaning: 'config.xml version differs from pfSense 2.7.2 (23.3); migrations pfSense would apply are not reproduced',
  },
  POL045: {
    severity: 'error',
    meaning: 'NAT entry cannot be resolved or modelled (interface, address, alias target); left out, or its answers are unknown',
  },
  POL046: {
    severity: 'warning',
    meaning:
      'a live read does not carry something that can change a verdict (a system setting, an interface option, rdr ' +
      'pass); the stated assumption is used',
  },
  POL047: {
    severity: 'warning',
    meaning:
      'an OPNsense rule names a lockout table (sshlockout, virusprot); read as empty, as the automatic lockout rules ' +
      'read it, unless facts give its contents',
  },
} as const satisfies Record<string, { severity: WarningSeverity; meaning: string }>;

type WarningCode = keyof typeof WARNING_CATALOG;

/** Warnings that describe pfSense's own behaviour faithfully (a disabled rule or interface is not loaded). */
const NEVER_A_CAVEAT: ReadonlySet<string> = new Set(['POL001', 'POL031']);

/**
 * Whether a warning can change a verdict (something left out, unmodelled or known only at run time); these are
 * repeated inside every trace result they may concern (docs/adr/0152-honest-inputs-and-runtime-facts.md).
 */
export function canChangeVerdict(warning: PolicyWarning): boolean {
  return !NEVER_A_CAVEAT.has(warning.code);
}

/** Builds a warning with the catalog severity. */
export function policyWarning(
  code: WarningCode,
  element: string,
  message: string,
  ref?: PolicyWarning['ref'],
): PolicyWarning {
  const warning: PolicyWarning = { code, severity: WARNING_CATALOG[code].severity, element, message };
  if (ref !== undefined) warning.ref = ref;
  return warning;
}

/**
 * Bad input that cannot be turned into a model at all (not XML, not a pfSense backup, a JSON model that fails
 * validation). `field` names the offending field as a path (`rules[3].source.kind`, `pfsense.interfaces`).
 */
export class PolicyInputError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'PolicyInputError';
    this.field = field;
  }
}
