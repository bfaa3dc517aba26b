/**
 * @module Keeps the ROS error catalog and the error table of docs/routeros.md in sync, both directions: same codes,
 * same titles.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROS_CATALOG } from '../../src/adapters/routeros/index.ts';

const doc = readFileSync(join(import.meta.dirname, '../../docs/routeros.md'), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| (ROS\d{3}) \| ([^|]+) \|/gm)].map((m) => [m[1] as string, (m[2] as string).trim()]),
);

describe('ROS catalog ↔ docs/routeros.md', () => {
  it('documents every code with its catalog title', () => {
    for (const [code, entry] of Object.entries(ROS_CATALOG))
      expect([code, documented.get(code)]).toEqual([code, entry.title]);
  });

  it('documents no code the catalog lacks', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(ROS_CATALOG).sort());
  });
});
