/**
 * @module `portcullis policy test` end to end: the real CLI process on the shipped default config — human output
 * per flow, `--json` equal to the library report, `--facts` turning an unknown into a pass, and the documented
 * exit codes (0 every flow as expected, 1 not, 2 bad input naming every problem with path and line).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/policy/import/index.ts';
import { parsePolicyTestsText, runPolicyTests } from '../../src/policy/tests.ts';
import { sshFromWan, webFromLan } from './fixtures/flows.ts';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));
const config = fileURLToPath(new URL('./fixtures/default-2.7.xml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'portcullis-policy-test-'));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

const passing = file('passing.json', { version: 1, flows: [webFromLan, sshFromWan] });
const failing = file('failing.json', { flows: [webFromLan, { ...webFromLan, name: 'LAN web is blocked', expect: 'block', via: undefined }] });

async function policyTest(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'policy', 'test', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('portcullis policy test', () => {
  it('exits 0 when every flow is as expected, one line per flow', async () => {
    const { code, stdout } = await policyTest('--config', config, '--tests', passing);
    expect(code).toBe(0);
    expect(stdout).toContain(
      'ok   LAN reaches the web: expect pass via "Default allow LAN to any rule" — pass via lan #1 "Default allow LAN to any rule" [tracker 0100000101]',
    );
    expect(stdout).toContain('ok   no SSH from the internet: expect block — block by system rule "Default deny rule IPv4"');
    expect(stdout).toMatch(/2 flows: 2 ok, 0 failed, 0 unknown, 0 not applicable to this config — PASSED\n$/);
  });

  it('exits 1 with the failing flow explained; --json is the library report', async () => {
    const human = await policyTest('--config', config, '--tests', failing);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('FAIL LAN web is blocked: expect block — expected block, got pass by lan #1');
    expect(human.stdout).toContain('PASS: tcp 192.168.1.50:49152 -> 93.184.216.34:443 flags S arriving on lan');
    const json = await policyTest('--config', config, '--tests', failing, '--json');
    expect(json.code).toBe(1);
    const expected = runPolicyTests(
      loadPolicy(readFileSync(config, 'utf8')).ruleset,
      parsePolicyTestsText(readFileSync(failing, 'utf8')),
    );
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(JSON.parse(json.stdout).counts).toEqual({ ok: 1, failed: 1, unknown: 0, error: 0 });
  });

  it('reports a verdict the config cannot decide as unknown (exit 1); --facts decides it', async () => {
    // WAN is DHCP in this config: whether a packet is addressed to "this firewall" on WAN is a run-time fact.
    const xml = readFileSync(config, 'utf8').replace(
      '<filter>',
      '<filter><rule><type>pass</type><interface>wan</interface><ipprotocol>inet</ipprotocol><protocol>tcp</protocol><source><any/></source><destination><network>wanip</network><port>443</port></destination><descr>GUI from WAN</descr></rule>',
    );
    const withRule = file('gui-from-wan.xml', xml);
    const tests = file('gui.json', {
      flows: [{ name: 'GUI from WAN', interface: 'wan', protocol: 'tcp', source: '93.184.216.34', destination: '203.0.113.9', destination_port: 443, expect: 'pass', via: 'GUI from WAN' }],
    });
    const unknown = await policyTest('--config', withRule, '--tests', tests);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('??   GUI from WAN: expect pass via "GUI from WAN" — expected pass, but the verdict depends on run-time contents');
    const facts = file('facts.json', { interfaces: { wan: { ipv4: '203.0.113.9/24' } } });
    const known = await policyTest('--config', withRule, '--tests', tests, '--facts', facts);
    expect(known.code).toBe(0);
    expect(known.stderr).toContain('fact: ');
  });

  it('exits 2 for a bad file, naming every problem with its path and line', async () => {
    const bad = file(
      'bad.json',
      '{\n  "flows": [\n    {"name": "a", "interface": "lan", "protocol": "tcp", "source": "192.168.1.5",\n     "destination": "1.1.1.1", "destination_port": 443, "expect": "allow"},\n    {"name": "b", "interface": "lan", "protocol": "udp", "source": "192.168.1.5", "destination": "1.1.1.1"}\n  ]\n}\n',
    );
    const { code, stdout, stderr } = await policyTest('--config', config, '--tests', bad);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`error: invalid --tests ${bad}:`);
    expect(stderr).toContain('  flows[0].expect (line 4): must be "pass", "block" or "reject" (got "allow")');
    expect(stderr).toContain('  flows[1].expect (line 5): must be "pass", "block" or "reject" (got null)');
    expect(stderr).toContain('  flows[1].destination_port (line 5): a udp packet needs a destination port');
  });

  it('exits 2 for a missing file and for a bad config', async () => {
    const missing = await policyTest('--config', config, '--tests', join(dir, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read --tests');
    const badConfig = await policyTest('--config', file('bad.xml', '<pfsense'), '--tests', passing);
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain('error: invalid --config');
  });
});
