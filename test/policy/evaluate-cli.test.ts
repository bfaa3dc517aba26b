/**
 * @module `portcullis policy trace` end to end: the real CLI process on the shipped default config, one packet
 * and a `--packets` sequence with one state table, human and JSON output, and errors with exit code 2.
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
const config = fileURLToPath(new URL('./fixtures/default-2.7.xml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'portcullis-trace-'));

async function trace(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'policy', 'trace', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('portcullis policy trace', () => {
  it('explains one packet in a paragraph plus the trace', async () => {
    const { code, stdout } = await trace(
      '--config',
      config,
      '--packet',
      'lan in tcp 192.168.1.50:40000 -> 8.8.8.8:443 flags S',
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^PASS: tcp 192\.168\.1\.50:40000 -> 8\.8\.8\.8:443 flags S arriving on lan is decided by user rule 1 on the lan tab "Default allow LAN to any rule" \(tracker 0100000101\)\./,
    );
    expect(stdout).toContain('Trace:');
    expect(stdout).toMatch(
      /MATCH \[\d+\] pass quick \(lan #1\) Default allow LAN to any rule: matches; quick/,
    );
  });

  it('--json prints the result object', async () => {
    const { code, stdout } = await trace(
      '--config',
      config,
      '--json',
      '--packet',
      'wan in tcp 93.184.216.34:40000 -> 192.168.1.50:22 flags S',
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ verdict: 'block', decidedBy: 'rule', reply: null, stateCreated: false });
    expect(result.rule).toMatchObject({
      kind: 'system',
      descr: 'Default deny rule IPv4',
      ridentifier: '1000000103',
    });
    expect(Array.isArray(result.trace)).toBe(true);
  });

  it('--packets evaluates a sequence against one state table and prints results in order', async () => {
    const steps = file(
      'steps.json',
      JSON.stringify([
        {
          name: 'syn',
          packet: {
            interface: 'lan',
            direction: 'in',
            proto: 'tcp',
            src: '192.168.1.50',
            srcPort: 40000,
            dst: '8.8.8.8',
            dstPort: 443,
            tcpFlags: 'S',
          },
          expect: 'ignored',
        },
        {
          packet: {
            interface: 'lan',
            direction: 'out',
            af: 'inet',
            proto: 'tcp',
            src: '8.8.8.8',
            srcPort: 443,
            dst: '192.168.1.50',
            dstPort: 40000,
            tcpFlags: 'SA',
          },
        },
        {
          packet: {
            interface: 'wan',
            direction: 'in',
            proto: 'udp',
            src: '93.184.216.34',
            srcPort: 53,
            dst: '192.168.1.50',
            dstPort: 5353,
          },
        },
      ]),
    );
    const { code, stdout } = await trace('--config', config, '--packets', steps, '--json');
    expect(code).toBe(0);
    const results = JSON.parse(stdout) as Array<{
      verdict: string;
      decidedBy: string;
      rule: { tracker: string } | null;
      stateCreated: boolean;
    }>;
    expect(results.map((r) => [r.verdict, r.decidedBy, r.rule?.tracker, r.stateCreated])).toEqual([
      ['pass', 'rule', '0100000101', true],
      ['pass', 'state', '0100000101', false],
      ['block', 'rule', '1000000103', false],
    ]);
  });

  it.each([
    [
      'a bad packet line',
      ['--packet', 'lan sideways tcp 1.2.3.4:1 -> 5.6.7.8:2'],
      'error: bad packet (direction): direction must be "in" or "out" (got "sideways")',
    ],
    [
      'an unknown interface',
      ['--packet', 'opt9 in udp 1.2.3.4:1 -> 5.6.7.8:53'],
      'error: bad packet (interface): unknown interface "opt9" (known: wan, lan, lo0)',
    ],
    [
      'neither --packet nor --packets',
      [],
      'error: give exactly one of --packet "<line>" or --packets <file>',
    ],
    [
      'a missing --packets file',
      ['--packets', join(dir, 'nope.json')],
      `error: cannot read --packets ${join(dir, 'nope.json')}: ENOENT`,
    ],
  ])('reports %s and exits 2', async (_name, args, message) => {
    const { code, stderr, stdout } = await trace('--config', config, ...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n').at(-1)).toBe(message);
  });

  it('a bad step in a sequence is reported in its slot, the other steps still run, and the exit code is 2', async () => {
    const steps = file(
      'bad.json',
      JSON.stringify([
        { packet: { interface: 'lan', direction: 'in', proto: 'udp', src: '1.2.3.4', dst: '5.6.7.8' } },
        {
          packet: {
            interface: 'lan',
            direction: 'in',
            proto: 'udp',
            src: '192.168.1.50',
            srcPort: 5000,
            dst: '8.8.8.8',
            dstPort: 53,
          },
        },
      ]),
    );
    const { code, stdout, stderr } = await trace('--config', config, '--packets', steps, '--json');
    expect(code).toBe(2);
    expect(stderr).toContain('error: bad packet (dstPort): step [0]: a udp packet needs a destination port');
    const results = JSON.parse(stdout);
    expect(results[0]).toEqual({
      error: { field: 'dstPort', message: 'step [0]: a udp packet needs a destination port' },
    });
    expect(results[1]).toMatchObject({ verdict: 'pass', decidedBy: 'rule' });
  });

  it('rejects a --packets file that is not an array of steps with packets', async () => {
    const { code, stderr } = await trace('--config', config, '--packets', file('obj.json', '{"packet":{}}'));
    expect(code).toBe(2);
    expect(stderr).toContain('must hold a JSON array of steps');
  });

  // Issue 12 item 2 (docs/adr/0152-honest-inputs-and-runtime-facts.md): warnings that can change the answer inside the result; --facts resolves them.
  const wanGui = () =>
    file(
      'wan-gui.xml',
      readFileSync(config, 'utf8').replace(
        '<filter>',
        '<filter><rule><type>pass</type><interface>wan</interface><ipprotocol>inet</ipprotocol><protocol>tcp</protocol><source><any/></source><destination><network>wanip</network><port>443</port></destination><descr>GUI from WAN</descr></rule>',
      ),
    );
  const toWan = 'wan in tcp 93.184.216.34:40000 -> 203.0.113.9:443 flags S';

  it('an answer that depends on the DHCP WAN address is unknown and lists the warning in text and JSON', async () => {
    const path = wanGui();
    const text = await trace('--config', path, '--packet', toWan);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^UNKNOWN: /);
    expect(text.stdout).toMatch(/Warnings that can change this answer:\n {2}POL030 interface wan gets its address at run time/);
    const json = await trace('--config', path, '--json', '--packet', toWan);
    expect(JSON.parse(json.stdout).warnings.map((w: { code: string }) => w.code)).toContain('POL030');
  });

  it('--facts gives the WAN address: the answer becomes definite and the applied fact is listed', async () => {
    const facts = file('facts.json', JSON.stringify({ interfaces: { wan: { ipv4: '203.0.113.9/24' } } }));
    const { code, stdout, stderr } = await trace('--config', wanGui(), '--facts', facts, '--packet', toWan);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^PASS: .* decided by user rule 1 on the wan tab "GUI from WAN"/);
    expect(stderr).toContain('fact: interface wan ipv4 is 203.0.113.9/24');
  });

  it.each([
    ['not JSON', '{', /--facts .* is not valid JSON/],
    ['a bad address', JSON.stringify({ tables: { x: ['nope'] } }), /invalid --facts .*: facts\.tables\.x\[0\]: "nope" is not an address or CIDR/],
    ['an interface the config lacks', JSON.stringify({ interfaces: { opt9: { ipv4: '10.0.0.1/24' } } }), /invalid --facts: facts\.interfaces\.opt9: no interface/],
  ])('a facts file with %s is refused with exit code 2', async (_name, content, message) => {
    const { code, stderr } = await trace('--config', config, '--facts', file('bad-facts.json', content), '--packet', toWan);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('a truncated config is refused with line and column', async () => {
    const truncated = file('truncated.xml', readFileSync(config, 'utf8').slice(0, 2000));
    const { code, stderr } = await trace('--config', truncated, '--packet', toWan);
    expect(code).toBe(2);
    expect(stderr).toMatch(/invalid --config .*: config: not well-formed XML at line \d+, column \d+/);
  });

  it('a port forward is traced with its translation step in text and JSON (issue 12 item 1)', async () => {
    const natConfig = fileURLToPath(new URL('./fixtures/nat-2.7.xml', import.meta.url));
    const line = 'wan in tcp 93.184.216.34:40000 -> 85.10.20.2:8443 flags S';
    const text = await trace('--config', natConfig, '--packet', line);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^Translated before filtering by rdr rule \d+ \(port forward "Web server"\): destination 85\.10\.20\.2:8443 -> 192\.168\.1\.10:443\. PASS: tcp 93\.184\.216\.34:40000 -> 192\.168\.1\.10:443/,
    );
    const json = JSON.parse((await trace('--config', natConfig, '--json', '--packet', line)).stdout);
    expect(json.translations[0]).toMatchObject({
      kind: 'rdr',
      rule: { text: 'rdr on igb0 inet proto tcp from any to 85.10.20.2 port 8443 -> 192.168.1.10 port 443' },
    });
    expect(json.rule.descr).toBe('NAT Web server');
  });
});
