/**
 * @module The synthetic benchmark config: deterministic, the promised size, and the same ruleset whether it comes
 * in as a model or as config.xml text.
 */
import { describe, expect, it } from 'vitest';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { importConfigXml } from '../../src/policy/import/index.ts';
import { syntheticConfig, syntheticConfigXml } from './fixtures/synthetic.ts';

describe('synthetic config', () => {
  it('has 5,000 rules on 8 interfaces and aliases totalling 200,000 CIDRs by default', () => {
    const config = syntheticConfig();
    expect(config.rules).toHaveLength(5000);
    expect(config.interfaces).toHaveLength(8);
    const bulk = config.aliases.filter((a) => a.name.startsWith('BULK'));
    expect(bulk.reduce((n, a) => n + a.entries.length, 0)).toBe(200_000);
    expect(
      new Set(config.rules.map((r) => (r.floating ? 'floating' : r.interface))).size,
    ).toBeGreaterThanOrEqual(8);
  });

  it('is a pure function of its seed', () => {
    expect(syntheticConfig({ seed: 7, rules: 300, aliasCidrs: 2000 })).toEqual(
      syntheticConfig({ seed: 7, rules: 300, aliasCidrs: 2000 }),
    );
    expect(syntheticConfig({ seed: 7, rules: 300, aliasCidrs: 2000 })).not.toEqual(
      syntheticConfig({ seed: 8, rules: 300, aliasCidrs: 2000 }),
    );
  });

  it('generates the same ruleset from the model and from its config.xml', () => {
    const options = { seed: 3, rules: 400, aliasCidrs: 5000 };
    const fromModel = generateRuleset(syntheticConfig(options));
    const fromXml = generateRuleset(importConfigXml(syntheticConfigXml(options)).config);
    expect(fromXml.rules).toEqual(fromModel.rules);
    expect(fromXml.tables).toEqual(fromModel.tables);
  });

  it('expands nested aliases without duplicating entries', () => {
    const ruleset = generateRuleset(syntheticConfig({ rules: 10, aliasCidrs: 4000, aliases: 40 }));
    const nest = ruleset.tables.NEST0;
    expect(nest?.cidrs.length).toBe(new Set(nest?.cidrs).size);
    expect(nest?.cidrs).toEqual(
      expect.arrayContaining([...(ruleset.tables.BULK0?.cidrs ?? []), '10.0.99.0/24']),
    );
  });
});
