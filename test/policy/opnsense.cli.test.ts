/**
 * @module The policy CLI on an OPNsense config.xml, as real processes: `trace` (unknown behind a url alias, known
 * with `--facts`), `lint` and `diff` work unchanged (docs/adr/0146-opnsense-configurations.md).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));
const config = fileURLToPath(new URL('./fixtures/opnsense/branch-office.xml', import.meta.url));
const text = readFileSync(config, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'portcullis-opnsense-'));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function policy(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'policy', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const blocklisted = 'wan in tcp 203.0.113.7:40000 -> 10.10.10.20:443 flags S';
const facts = file('facts.json', JSON.stringify({ tables: { BLOCKLIST: ['203.0.113.0/24'], bogons: ['0.0.0.0/8'] } }));
const noLanAllow = file(
  'no-lan-allow.xml',
  text.replace('<descr>Default allow LAN to any rule</descr>', '<descr>Default allow LAN to any rule</descr><disabled>1</disabled>'),
);

describe('portcullis policy on an OPNsense config', () => {
  it('traces a packet behind run-time tables as unknown, naming the url alias', async () => {
    const { code, stdout } = await policy('trace', '--config', config, '--packet', blocklisted);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^UNKNOWN: /);
    expect(stdout).toContain('<BLOCKLIST>');
  });

  it('answers with --facts: the MVC floating rule drops the listed source', async () => {
    const { code, stdout } = await policy('trace', '--config', config, '--facts', facts, '--packet', blocklisted, '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { verdict: string; rule: { tab: string; descr: string } };
    expect(result.verdict).toBe('block');
    expect(result.rule).toMatchObject({ tab: 'floating', descr: 'Drop blocklist' });
  });

  it('traces a port forward of an OPNsense config with NAT: the translation, then the deciding rule (§7)', async () => {
    const nat = fileURLToPath(new URL('./fixtures/opnsense/nat.xml', import.meta.url));
    const packet = 'wan in tcp 192.0.2.7:40000 -> 198.51.100.2:443 flags S';
    const { code, stdout } = await policy('trace', '--config', nat, '--packet', packet, '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { verdict: string; rule: { descr: string }; translations: Array<{ after: string }> };
    expect(result).toMatchObject({ verdict: 'pass', rule: { descr: 'NAT HTTPS to web server' } });
    expect(result.translations.map((t) => t.after)).toEqual(['10.10.10.20:443']);
  });

  it('lints it', async () => {
    const { code, stdout } = await policy('lint', '--config', config, '--json');
    expect(code).toBe(0);
    const { findings } = JSON.parse(stdout) as { findings: Array<{ kind: string; rule: { descr: string } }> };
    expect(findings.filter((f) => f.kind === 'disabled-rule').map((f) => f.rule.descr).sort()).toEqual([
      'From home country (disabled)',
      'Old DMZ allow all',
    ]);
  });

  it('diffs two versions: disabling the LAN allow rule newly blocks LAN traffic, exit 1', async () => {
    const { code, stdout } = await policy('diff', '--before', config, '--after', noLanAllow);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^Newly blocked \(\d+\)$/m);
    expect(stdout).toContain('after: block by system rule "Default deny / state violation rule"');
  });

  it('exits 2 naming the field for an OPNsense config without interfaces', async () => {
    const { code, stderr } = await policy('trace', '--config', file('empty.xml', '<opnsense><system/></opnsense>'), '--packet', blocklisted);
    expect(code).toBe(2);
    expect(stderr).toContain('opnsense.interfaces');
  });
});
