/**
 * @module `portcullis policy ruleset` end to end: the real CLI process on the fixture configs.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/policy/import/index.ts';
import type { PfRuleset } from '../../src/policy/model.ts';
import { printRuleset } from '../../src/policy/print.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'policy', 'ruleset', ...args], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('portcullis policy ruleset', () => {
  const office = loadPolicy(readFileSync(fixture('office-2.7.xml'), 'utf8')).ruleset;

  it('prints the pf text on stdout and the warnings on stderr', async () => {
    const { code, stdout, stderr } = await cli('--config', fixture('office-2.7.xml'));
    expect(code).toBe(0);
    expect(stdout).toBe(printRuleset(office));
    expect(stderr).toContain(
      'error POL004 rule wan #4: rule "Refers to a missing alias" (wan #4): Unresolvable source alias \'NOSUCHALIAS\'',
    );
    expect(stderr.trim().split('\n')).toHaveLength(office.warnings.length);
  });

  it('--json prints the structured ruleset with origins', async () => {
    const { code, stdout } = await cli('--config', fixture('office-2.7.xml'), '--json');
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as PfRuleset;
    expect(parsed.rules).toEqual(office.rules);
    expect(parsed.rules.find((r) => r.tracker === '1700000300')?.origin).toEqual({
      kind: 'user',
      tab: 'openvpn',
      position: 1,
      descr: 'VPN users to LAN',
      configIndex: 4,
    });
  });

  it.each([
    [
      'a missing file',
      ['--config', join(tmpdir(), 'portcullis-no-such-config.xml')],
      /cannot read --config .*ENOENT/,
    ],
    ['an invalid JSON model', ['--config', 'JSON'], /invalid --config .*: system: is required/],
    ['no --config', [], /required option '--config <file>'/],
  ])('exits 2 on %s, naming the problem', async (_name, args, message) => {
    const path = join(tmpdir(), `portcullis-bad-model-${process.pid}.json`);
    writeFileSync(path, '{"version":1}');
    const { code, stderr, stdout } = await cli(...args.map((a) => (a === 'JSON' ? path : a)));
    expect(code).not.toBe(0);
    if (args.length > 0) expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stdout).toBe('');
  });
});
