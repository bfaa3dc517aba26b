/**
 * @module `portcullis policy diff` end to end: the real CLI process on the shipped default config and edited
 * copies — human output grouped by kind, `--json` equal to the library result, the management-path check, and
 * the documented exit codes (0 no change, 1 changes, 2 bad input, 3 management path cut).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { diffRulesets } from '../../src/policy/diff/index.ts';
import { loadPolicy } from '../../src/policy/import/index.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));
const original = fileURLToPath(new URL('./fixtures/default-2.7.xml', import.meta.url));
const text = readFileSync(original, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'portcullis-diff-'));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The default config without its "Default allow LAN to any rule" (IPv4): LAN IPv4 falls to the default deny. */
const noLanAllow = file(
  'no-lan-allow.xml',
  text.replace(/<rule>\s*<type>pass<\/type>\s*<ipprotocol>inet<\/ipprotocol>\s*<descr><!\[CDATA\[Default allow LAN to any rule\]\]><\/descr>[\s\S]*?<\/rule>/, ''),
);
/** …and without the anti-lockout rule. */
const lockedOut = file(
  'locked-out.xml',
  readFileSync(noLanAllow, 'utf8').replace('<protocol>https</protocol>', '<protocol>https</protocol><noantilockout/>'),
);

async function diff(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'policy', 'diff', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('portcullis policy diff', () => {
  it('the fixture edits are what the tests assume', () => {
    expect(readFileSync(noLanAllow, 'utf8')).not.toContain('Default allow LAN to any rule]]');
    expect(readFileSync(lockedOut, 'utf8')).toContain('<noantilockout/>');
  });

  it('lists the newly blocked flows with the deciding rules, and exits 1', async () => {
    const { code, stdout } = await diff('--before', original, '--after', noLanAllow);
    expect(code).toBe(1);
    expect(stdout).toContain('- lan #1 "Default allow LAN to any rule" [tracker 0100000101] (before)');
    expect(stdout).toMatch(/^Newly blocked \(\d+\)$/m);
    expect(stdout).toContain(
      '  lan in inet icmp,ipv6-icmp,other from 192.168.1.0/32, 192.168.1.2-192.168.1.255 to 0.0.0.0-169.253.255.255, 169.255.0.0-255.255.255.255\n',
    );
    expect(stdout).toContain('before: pass by lan #1 "Default allow LAN to any rule" [tracker 0100000101]');
    expect(stdout).toContain('after: block by system rule "Default deny rule IPv4"');
    expect(stdout).not.toContain('Newly pass (');
  });

  it('--json prints the library result', async () => {
    const { code, stdout } = await diff('--before', original, '--after', noLanAllow, '--json');
    expect(code).toBe(1);
    const expected = diffRulesets(loadPolicy(text).ruleset, loadPolicy(readFileSync(noLanAllow, 'utf8')).ruleset);
    expect(JSON.parse(stdout)).toEqual({ diff: JSON.parse(JSON.stringify(expected)), lockout: null });
  });

  it('exits 0 and says so when nothing changes', async () => {
    const { code, stdout } = await diff('--before', original, '--after', original);
    expect(code).toBe(0);
    expect(stdout).toContain('No flow changes verdict.');
  });

  it('--management reports the path still passing (anti-lockout), and exits 3 when the change cuts it', async () => {
    const path = 'lan 192.168.1.50 -> 192.168.1.1:443';
    const kept = await diff('--before', original, '--after', noLanAllow, '--management', path);
    expect(kept.code).toBe(1);
    expect(kept.stdout).toMatch(/Management path .*: PASSES/);
    const cut = await diff('--before', original, '--after', lockedOut, '--management', path, '--json');
    expect(cut.code).toBe(3);
    const parsed = JSON.parse(cut.stdout) as { lockout: { status: string; after: { rule: { descr: string } } } };
    expect(parsed.lockout.status).toBe('cut');
    expect(parsed.lockout.after.rule.descr).toBe('Default deny rule IPv4');
  });

  it('exits 2 naming the option for an unreadable file, invalid XML or a bad management path', async () => {
    const missing = await diff('--before', '/nonexistent/a.xml', '--after', original);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--before /nonexistent/a.xml');
    const broken = await diff('--before', original, '--after', file('broken.xml', '<pfsense><filter>'));
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('invalid --after');
    const badPath = await diff('--before', original, '--after', original, '--management', 'lan nowhere');
    expect(badPath.code).toBe(2);
    expect(badPath.stderr).toContain('bad --management');
  });
});
