/**
 * @module Policy input: a pfSense `config.xml` text or the equivalent JSON model, detected by content.
 */
import { generateRuleset } from '../generate/index.ts';
import type { PfRuleset, PolicyConfig, PolicyWarning } from '../model.ts';
import { PolicyInputError } from '../warnings.ts';
import { importConfigJson } from './json.ts';
import { importConfigXml } from './xml.ts';

export { importConfigJson, PolicyConfigSchema } from './json.ts';
export { importConfigXml } from './xml.ts';

/**
 * Reads a policy from text: XML (first non-blank character `<`) is a pfSense backup, `{` is the JSON model.
 * Throws `PolicyInputError` naming the field for anything else or for invalid content.
 */
export function importPolicyText(text: string): { config: PolicyConfig; warnings: PolicyWarning[] } {
  const start = text.trimStart()[0];
  if (start === '<') return importConfigXml(text);
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
    'expected a pfSense config.xml (starting with "<") or a JSON model ("{")',
  );
}

/** Reads a policy from text and generates its ruleset; import warnings come first in `ruleset.warnings`. */
export function loadPolicy(text: string): { config: PolicyConfig; ruleset: PfRuleset } {
  const { config, warnings } = importPolicyText(text);
  return { config, ruleset: generateRuleset(config, { importWarnings: warnings }) };
}
