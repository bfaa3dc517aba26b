/**
 * @module `PolicyConfig` → `PfRuleset`: the ordered ruleset pfSense 2.7.2 would load (`/tmp/rules.debug` as pfctl
 * reads it), with tables for aliases and interface networks. Pure and deterministic: the same config always gives
 * the same ruleset, rule for rule.
 */
import { normalizeCidr } from '../../net/ip.ts';
import type { PfRule, PfRuleset, PfTable, PolicyConfig, PolicyWarning, RulesetNote } from '../model.ts';
import { policyWarning } from '../warnings.ts';
import { type AliasResolution, resolveAliases } from './aliases.ts';
import { buildInterfaces, type InterfaceModel } from './interfaces.ts';
import { generateNatRules } from './nat.ts';
import { generateOpnsenseSystemRules, opnsenseAssociatedRules } from './opnsense.ts';
import type { DraftRule } from './rule.ts';
import { generateSystemRules } from './system.ts';
import { generateUserRules } from './user.ts';

/**
 * The bogons file pfSense ships (`src/etc/bogons`, docs/reference/pf-semantics.md §1.5); RFC1918 is stripped on update.
 * `<bogonsv6>` is the downloaded Team Cymru full list, not in the repository: dynamic (docs/adr/0038).
 */
const SHIPPED_BOGONS_V4 = [
  '0.0.0.0/8',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
];

interface GenerateOptions {
  /** Warnings from the importer, carried into `PfRuleset.warnings` first. */
  importWarnings?: PolicyWarning[];
}

/** Generates the ruleset for a config. Never throws for content problems: they become warnings. */
export function generateRuleset(config: PolicyConfig, options: GenerateOptions = {}): PfRuleset {
  const warnings: PolicyWarning[] = [...(options.importWarnings ?? [])];
  const ifs = buildInterfaces(config, warnings);
  const aliases = resolveAliases(config.aliases, warnings);

  const tables: Record<string, PfTable> = {};
  const addTable = (t: PfTable) => {
    tables[t.name] = t;
  };
  for (const t of ifs.networkTables) addTable(t);
  // Run-time blocklists fed by sshguard, Snort and overload rules start empty (docs/adr/0038).
  const opnsense = config.opnsense;
  for (const name of opnsense === undefined ? ['sshguard', 'snort2c', 'virusprot'] : ['sshlockout', 'virusprot'])
    addTable({ name, cidrs: [], dynamic: false, source: 'system' });
  // OPNsense downloads its bogons list at run time (docs/reference/opnsense-rules.md §3.2): dynamic unless given.
  const knownBogons = config.system.bogons?.ipv4;
  addTable({
    name: 'bogons',
    cidrs: knownBogons
      ? canonicalList(knownBogons, 'system.bogons.ipv4', warnings)
      : opnsense === undefined
        ? SHIPPED_BOGONS_V4
        : [],
    dynamic: opnsense !== undefined && knownBogons === undefined,
    source: 'system',
  });
  const bogonsV6Used = config.system.ipv6Allow && config.interfaces.some((i) => i.enabled && i.blockBogons);
  if (bogonsV6Used) {
    const known = config.system.bogons?.ipv6;
    addTable({
      name: 'bogonsv6',
      cidrs: known ? canonicalList(known, 'system.bogons.ipv6', warnings) : [],
      dynamic: known === undefined,
      source: 'system',
    });
    if (known === undefined) {
      warnings.push(
        policyWarning(
          'POL041',
          'system',
          'the <bogonsv6> table is downloaded at run time; IPv6 sources on interfaces that block bogons are matched as unknown unless system.bogons.ipv6 is given',
        ),
      );
    }
  }
  for (const t of aliases.tables.values()) addTable(t);

  const rules: PfRule[] = [];
  const notes: RulesetNote[] = [];
  const place = (draft: DraftRule, position: number) => {
    rules.push({
      index: rules.length,
      ...draft,
      origin: draft.origin.kind === 'system' ? { ...draft.origin, position } : draft.origin,
    });
  };
  // Vendor switch: OPNsense registers its own automatic rules, all before the user rules (docs/adr/0146-opnsense-configurations.md).
  const system =
    opnsense === undefined
      ? generateSystemRules(config, ifs, warnings)
      : {
          before: generateOpnsenseSystemRules(config, opnsense, ifs, warnings),
          after: associatedRules(config, ifs, aliases, warnings),
          tables: [],
        };
  for (const t of system.tables) addTable(t);
  for (const [i, draft] of system.before.entries()) place(draft, i + 1);
  notes.push({ beforeIndex: rules.length, text: 'User-defined rules follow' });
  for (const item of generateUserRules(config, ifs, aliases, warnings)) {
    if ('note' in item) notes.push({ beforeIndex: rules.length, text: item.note });
    else place(item.rule, item.rule.origin.position);
  }
  if (opnsense !== undefined) declareNamedBuiltinTables(rules, tables, config, warnings);
  if (system.after.length > 0) {
    const text = opnsense === undefined ? 'VPN Rules' : 'Automatic port-forward rules (priority 500000)';
    notes.push({ beforeIndex: rules.length, text });
  }
  for (const [i, draft] of system.after.entries()) place(draft, system.before.length + i + 1);

  const nat = generateNatRules(config, ifs, aliases, warnings);

  return {
    target: opnsense === undefined ? 'pfsense-2.7.2' : 'opnsense',
    statePolicy: 'floating',
    interfaces: ifs.pfInterfaces,
    tables,
    portAliases: Object.fromEntries(aliases.ports),
    self: ifs.self,
    rules,
    notes,
    warnings: dedupe(warnings),
    ...(nat.length > 0 ? { nat } : {}),
  };
}

/**
 * OPNsense's pass rules for port forwards set to "Register rule", translated as user rules are and then marked as
 * generated (docs/reference/opnsense-rules.md §7.3).
 */
function associatedRules(
  config: PolicyConfig,
  ifs: InterfaceModel,
  aliases: AliasResolution,
  warnings: PolicyWarning[],
): DraftRule[] {
  const rules = opnsenseAssociatedRules(config);
  if (rules.length === 0) return [];
  const out: DraftRule[] = [];
  for (const item of generateUserRules({ ...config, rules }, ifs, aliases, warnings)) {
    if ('note' in item) continue;
    const { descr } = item.rule.origin;
    out.push({
      ...item.rule,
      // Generated, not a user rule: labelled by the forward's description as OPNsense does.
      label: descr,
      origin: { kind: 'system', tab: 'system', position: 0, descr, systemKey: 'nat-associated' },
    });
  }
  return out;
}

/**
 * OPNsense's bogons tables named by a user rule (docs/reference/opnsense-rules.md §4.4) are downloaded at run time:
 * declared dynamic unless the model gives the lists (facts can still give the contents). `<bogons>` always exists;
 * `<bogonsv6>` only when an interface blocks bogons, so a rule naming it declares it. The lockout tables exist
 * already and stay empty (docs/adr/0235).
 */
function declareNamedBuiltinTables(
  rules: PfRule[],
  tables: Record<string, PfTable>,
  config: PolicyConfig,
  warnings: PolicyWarning[],
): void {
  const named = new Set<string>();
  for (const rule of rules) {
    if (rule.origin.kind !== 'user') continue;
    for (const side of [rule.from, rule.to]) {
      if (side.match.kind === 'table') named.add(side.match.table);
    }
  }
  for (const name of ['bogons', 'bogonsv6'] as const) {
    if (!named.has(name)) continue;
    const known = name === 'bogons' ? config.system.bogons?.ipv4 : name === 'bogonsv6' ? config.system.bogons?.ipv6 : undefined;
    if (tables[name] !== undefined && known !== undefined) continue;
    tables[name] =
      known === undefined
        ? { name, cidrs: [], dynamic: true, source: 'system' }
        : { name, cidrs: canonicalList(known, `system.bogons.${name === 'bogons' ? 'ipv4' : 'ipv6'}`, warnings), dynamic: false, source: 'system' };
  }
}

/** Canonical CIDRs of a list given in the JSON model; invalid entries are reported and left out. */
function canonicalList(list: readonly string[], field: string, warnings: PolicyWarning[]): string[] {
  const out: string[] = [];
  for (const entry of list) {
    const cidr = normalizeCidr(entry);
    if (cidr === null)
      warnings.push(policyWarning('POL042', 'system', `${field} entry "${entry}" is not a CIDR; left out`));
    else out.push(cidr);
  }
  return out;
}

/** inet46 halves and repeated checks can report the same thing twice; keep the first. */
function dedupe(warnings: PolicyWarning[]): PolicyWarning[] {
  const seen = new Set<string>();
  return warnings.filter((warning) => {
    const key = `${warning.code}\u0000${warning.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
