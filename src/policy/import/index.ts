/**
 * @module Policy input: a pfSense or OPNsense `config.xml` text or the equivalent JSON model, detected by content.
 */
import { applyConfigFacts, applyTableFacts, type RuntimeFacts } from '../facts.ts';
import { generateRuleset } from '../generate/index.ts';
import type { PfRuleset, PolicyConfig, PolicyWarning } from '../model.ts';
import { PolicyInputError } from '../warnings.ts';
import { importConfigJson } from './json.ts';
import { importOpnsenseDocument } from './opnsense.ts';
import { importPfsenseDocument, parseXmlDocument } from './xml.ts';

export { importConfigJson, PolicyConfigSchema } from './json.ts';
export { importConfigXml } from './xml.ts';

/**
 * Reads a policy from text: XML (first non-blank character `<`) is a pfSense or OPNsense backup, `{` is the JSON model.
 * Throws `PolicyInputError` naming the field for anything else or for invalid content.
 */
export function importPolicyText(text: string): { config: PolicyConfig; warnings: PolicyWarning[] } {
  const trimmed = text.trimStart();
  if (trimmed === '') throw new PolicyInputError('config', 'the file is empty');
  // pfSense and OPNsense encrypt a backup into an armoured block (pfSense crypt.inc encrypt_data / tagfile_reformat).
  if (trimmed.startsWith('---- BEGIN config.xml ----')) {
    const vendor = /^Version:\s*OPNsense/im.test(trimmed) ? 'an encrypted OPNsense backup' : 'an encrypted pfSense backup';
    throw new PolicyInputError('config', `${vendor}: decrypt it first (Diagnostics > Backup & Restore, or openssl)`);
  }
  const start = trimmed[0];
  if (start === '<') {
    // The root element names the vendor: <pfsense> or <opnsense> (docs/reference/opnsense-rules.md §1).
    const document = parseXmlDocument(text);
    const opnsense = document.opnsense;
    if (opnsense !== undefined && !Array.isArray(opnsense)) return importOpnsenseDocument(opnsense);
    return importPfsenseDocument(document);
  }
  if (start === '{') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new PolicyInputError('config', `not valid JSON (${(error as Error).message})`);
    }
    return { config: importConfigJson(value), warnings: [] };
  }
  throw new PolicyInputError(
    'config',
    'expected a pfSense or OPNsense config.xml (starting with "<") or a JSON model ("{")',
  );
}

/**
 * Reads a policy from text and generates its ruleset; import warnings come first in `ruleset.warnings`. Run-time
 * `facts` (docs/adr/0152-honest-inputs-and-runtime-facts.md) are applied to the config before generation (addresses, names) and to the ruleset after
 * (table contents); `factsApplied` says what they changed.
 */
export function loadPolicy(
  text: string,
  options: { facts?: RuntimeFacts } = {},
): { config: PolicyConfig; ruleset: PfRuleset; factsApplied: string[] } {
  const { config: imported, warnings } = importPolicyText(text);
  if (options.facts === undefined) {
    return { config: imported, ruleset: generateRuleset(imported, { importWarnings: warnings }), factsApplied: [] };
  }
  const { config, applied } = applyConfigFacts(imported, options.facts);
  const generated = generateRuleset(config, { importWarnings: warnings });
  const tables = applyTableFacts(generated, options.facts);
  return { config, ruleset: tables.ruleset, factsApplied: [...applied, ...tables.applied] };
}
