/**
 * @module `portcullis policy exposure` and `portcullis policy fix` end to end: the real CLI process on a JSON model —
 * human output, `--json` equal to the library result, `--source` and `--facts`, and exit code 2 naming the option
 * for bad input.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { aliasExposure } from '../../src/policy/exposure.ts';
import { proposeFixes } from '../../src/policy/fixes.ts';
import { parsePacketLine } from '../../src/policy/packet.ts';
import { baseConfig, userRule } from './fixtures/builders.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'portcullis-exposure-'));

const config = baseConfig({
  aliases: [
    { name: 'ssh_admins', type: 'host', entries: ['9.9.9.9'], descr: '' },
    { name: 'drop', type: 'urltable', entries: [], descr: '', urls: ['https://example.net/drop.txt'] },
  ],
  rules: [
    userRule({
      interface: 'wan',
      protocol: 'tcp',
      type: 'block',
      source: { kind: 'address', value: 'drop', not: false },
      descr: 'drop listed',
    }),
    userRule({
      interface: 'wan',
      protocol: 'tcp',
      tracker: '100',
      descr: 'ssh for admins',
      source: { kind: 'address', value: 'ssh_admins', not: false },
      destination: { kind: 'address', value: '85.10.20.2', port: '22', not: false },
    }),
  ],
});
const configPath = join(dir, 'config.json');
writeFileSync(configPath, JSON.stringify(config));
const factsPath = join(dir, 'facts.json');
writeFileSync(factsPath, JSON.stringify({ tables: { drop: [] } }));
const line = 'wan in tcp 8.8.8.8:40000 -> 85.10.20.2:22 flags S';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'policy', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('portcullis policy exposure', () => {
  it('lists what the alias opens, with the rules, and with --facts the unknown becomes exact', async () => {
    const unknown = await cli('exposure', '--config', configPath, '--alias', 'ssh_admins');
    expect(unknown.code).toBe(0);
    expect(unknown.stdout).toContain('May open (depends on run-time contents) (1)');
    const { code, stdout } = await cli('exposure', '--config', configPath, '--alias', 'ssh_admins', '--facts', factsPath);
    expect(code).toBe(0);
    expect(stdout).toContain('Opens (1)');
    expect(stdout).toContain('wan in inet tcp to 85.10.20.2/32 port 22 from port 1-65535 flags S/SA');
    expect(stdout).toContain('on the alias: pass by wan #2 "ssh for admins" [tracker 100]');
    expect(stdout).toContain('without it: block by system rule "Default deny rule IPv4"');
  });

  it('--json equals the library result; --source picks the representative', async () => {
    const { code, stdout } = await cli('exposure', '--config', configPath, '--alias', 'ssh_admins', '--source', '5.6.7.8', '--json');
    expect(code).toBe(0);
    const expected = aliasExposure(config, 'ssh_admins', { representatives: ['5.6.7.8'] });
    expect(JSON.parse(stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(expected.regions.every((r) => r.source === '5.6.7.8')).toBe(true);
  });

  it('exit 2 naming the option: unknown alias, a bad --source, an unreadable config', async () => {
    const alias = await cli('exposure', '--config', configPath, '--alias', 'nope');
    expect(alias).toMatchObject({ code: 2, stdout: '' });
    expect(alias.stderr).toContain('error: bad --alias: no alias named "nope"');
    const source = await cli('exposure', '--config', configPath, '--alias', 'ssh_admins', '--source', '9.9.9.9');
    expect(source.code).toBe(2);
    expect(source.stderr).toContain('error: bad --source: 9.9.9.9 is already on alias "ssh_admins"');
    const missing = await cli('exposure', '--config', join(dir, 'none.json'), '--alias', 'ssh_admins');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read --config');
  });
});

describe('portcullis policy fix', () => {
  it('ranks the fixes, each verified, and --json equals the library result', async () => {
    const { code, stdout } = await cli('fix', '--config', configPath, '--packet', line, '--facts', factsPath);
    expect(code).toBe(0);
    expect(stdout).toContain('1. add 8.8.8.8 to alias ssh_admins (used as source by pass rule wan #2 "ssh for admins")');
    expect(stdout).toContain('verified: pass by wan #2 "ssh for admins" [tracker 100]; opens nothing else');
    expect(stdout).toMatch(/^2\. insert a pass rule at wan #3/m);
    const json = await cli('fix', '--config', configPath, '--packet', line, '--json', '--limit', '1');
    expect(json.code).toBe(0);
    const expected = proposeFixes(config, parsePacketLine(line), { limit: 1 });
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(expected.fixes).toHaveLength(1);
  });

  it('exit 2 naming the problem: a bad packet, a bad --limit', async () => {
    const packet = await cli('fix', '--config', configPath, '--packet', 'wan in tcp nope:1 -> 85.10.20.2:22');
    expect(packet.code).toBe(2);
    expect(packet.stderr).toMatch(/^error: bad packet \(/);
    const limit = await cli('fix', '--config', configPath, '--packet', line, '--limit', '0');
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('bad --limit');
  });
});
