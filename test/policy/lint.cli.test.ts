/**
 * @module `portcullis policy lint` end to end: the real CLI process (`node bin/portcullis.js policy lint`) on the
 * fixture configs — human output grouped by severity, `--json`, and the documented exit codes (docs/policy-lint.md).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/policy/import/index.ts';
import { type LintFinding, lintRuleset } from '../../src/policy/lint.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

async function lint(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'policy', 'lint', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('portcullis policy lint', () => {
  const office = loadPolicy(readFileSync(fixture('office-2.7.xml'), 'utf8'));
  const expected = lintRuleset(office.ruleset, office.config);

  it('groups findings by severity with the why, and exits 1 when a finding is an error', async () => {
    const { code, stdout } = await lint('--config', fixture('office-2.7.xml'));
    expect(code).toBe(1);
    const headings = stdout.split('\n').filter((line) => /^(Errors|Warnings|Notes) \(\d+\)$/.test(line));
    expect(headings).toEqual(['Errors (2)', 'Warnings (4)', 'Notes (1)']);
    expect(stdout).toContain(
      'LINT001 shadowed: lan #3 "No direct SMTP to the internet (inverted destination)"',
    );
    expect(stdout).toContain('involves: lan #1 "Default allow LAN to any rule"');
    expect(stdout).toContain(
      'LINT020 missing-alias: wan #4 "Refers to a missing alias" [tracker 1700000403]',
    );
    expect(stdout).toContain('7 findings: 2 errors, 4 warnings, 1 info');
  });

  it('--json prints {findings, warnings} equal to the library result', async () => {
    const { code, stdout } = await lint('--config', fixture('office-2.7.xml'), '--json');
    expect(code).toBe(1);
    const parsed = JSON.parse(stdout) as { findings: LintFinding[]; warnings: unknown[] };
    expect(parsed.findings).toEqual(expected);
    expect(parsed.warnings).toEqual(office.ruleset.warnings);
  });

  it('exits 0 when no finding is an error', async () => {
    const { code, stdout } = await lint('--config', fixture('default-2.7.xml'));
    expect(code).toBe(0);
    expect(stdout).toBe('No findings.\n');
  });

  it('exits 2 naming the option when the config cannot be read', async () => {
    const { code, stderr } = await lint('--config', '/nonexistent/config.xml');
    expect(code).toBe(2);
    expect(stderr).toContain('--config /nonexistent/config.xml');
  });

  it('--help exits 0 and lists --config and --json', async () => {
    const { code, stdout } = await lint('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('--config <file>');
    expect(stdout).toContain('--json');
  });
});
