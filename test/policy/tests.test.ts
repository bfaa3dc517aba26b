/**
 * @module Policy tests (src/policy/tests.ts, docs/adr/0153-policy-tests.md): the file format refused as a whole
 * with every problem named by path and line, and the runner's judgement — pass, block, reject, `via` mismatch,
 * unknown verdicts reported as unknown (never a pass), flows that do not fit the config, and independence of flows
 * (no state carried from one flow to the next).
 */
import { describe, expect, it } from 'vitest';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import {
  type FlowTestResult,
  parsePolicyTests,
  parsePolicyTestsText,
  PolicyTestFileError,
  type PolicyTestSuite,
  runPolicyTests,
} from '../../src/policy/tests.ts';
import { baseConfig, userRule } from './fixtures/builders.ts';

const ruleset = generateRuleset(
  baseConfig({
    aliases: [
      {
        name: 'Blocklist',
        type: 'urltable',
        entries: [],
        descr: 'fetched at run time',
        urls: ['https://127.0.0.1/list.txt'],
      },
    ],
    rules: [
      userRule({ type: 'block', floating: true, quick: true, interface: 'lan', direction: 'out', protocol: 'tcp', descr: 'No replies from 10.0.0.1', source: { kind: 'address', value: '10.0.0.1', not: false, port: '80' } }),
      userRule({ type: 'reject', interface: 'lan', protocol: 'tcp', tracker: '500', descr: 'No telnet', destination: { kind: 'any', not: false, port: '23' } }),
      userRule({ type: 'block', interface: 'lan', protocol: 'udp', destination: { kind: 'address', value: 'Blocklist', not: false }, descr: 'Blocklist' }),
      userRule({ interface: 'lan', tracker: '501', descr: 'LAN out', source: { kind: 'network', value: 'lan', not: false } }),
      userRule({ interface: 'wan', protocol: 'tcp', tracker: '502', descr: 'Web in', destination: { kind: 'address', value: '85.10.20.2', not: false, port: '443' } }),
    ],
  }),
);

const flow = (fields: Record<string, unknown>) => ({
  name: 'a flow',
  interface: 'wan',
  protocol: 'tcp',
  source: '93.184.216.34',
  destination: '85.10.20.2',
  destination_port: 443,
  expect: 'pass',
  ...fields,
});

function run(...flows: Array<Record<string, unknown>>): FlowTestResult[] {
  const suite = parsePolicyTests({ version: 1, flows: flows.map((f, i) => ({ ...f, name: `flow ${i}` })) });
  return runPolicyTests(ruleset, suite).results;
}

function refusal(read: () => PolicyTestSuite): PolicyTestFileError {
  try {
    read();
  } catch (error) {
    if (error instanceof PolicyTestFileError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('the runner', () => {
  it('passes a flow that passes, naming the deciding rule', () => {
    const [result] = run(flow({ via: 'Web in' }));
    expect(result).toMatchObject({ ok: true, status: 'ok', verdict: 'pass', rule: { tracker: '502' }, explanation: null });
    expect(result?.why).toBe('pass via wan #1 "Web in" [tracker 502]');
  });

  it('fails a flow expected to pass that is blocked, with the deciding rule and an explanation', () => {
    const [result] = run(flow({ destination_port: 22 }));
    expect(result).toMatchObject({ ok: false, status: 'failed', verdict: 'block', expected: 'pass' });
    expect(result?.rule?.descr).toBe('Default deny rule IPv4');
    expect(result?.why).toContain('expected pass, got block by system rule "Default deny rule IPv4"');
    expect(result?.explanation).toMatch(/^BLOCK: /);
  });

  it('block is met by block and by reject; reject only by a reject that replies', () => {
    const telnet = { interface: 'lan', source: '192.168.1.50', destination: '10.0.0.1', destination_port: 23 };
    const [blocked, rejected, notRejected] = run(
      flow({ ...telnet, expect: 'block' }),
      flow({ ...telnet, expect: 'reject', via: '500' }),
      flow({ destination_port: 22, expect: 'reject' }),
    );
    expect(blocked).toMatchObject({ ok: true, verdict: 'reject' });
    expect(rejected).toMatchObject({ ok: true, verdict: 'reject', rule: { tracker: '500' } });
    expect(notRejected).toMatchObject({ ok: false, status: 'failed', verdict: 'block' });
  });

  it('matches via on tracker, description or label, and fails when another rule decides', () => {
    const lan = { interface: 'lan', source: '192.168.1.50', destination: '10.0.0.1', destination_port: 80 };
    const results = run(
      flow({ ...lan, via: '501' }),
      flow({ ...lan, via: 'LAN out' }),
      flow({ ...lan, via: 'Web in' }),
    );
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'failed']);
    expect(results[2]?.why).toBe('pass as expected, but by lan #3 "LAN out" [tracker 501], not via "Web in"');
  });

  it('reports a verdict that depends on run-time contents as unknown, not as pass or block', () => {
    const [pass, block] = run(
      flow({ interface: 'lan', protocol: 'udp', source: '192.168.1.50', destination: '45.9.148.3', destination_port: 53, expect: 'pass' }),
      flow({ interface: 'lan', protocol: 'udp', source: '192.168.1.50', destination: '45.9.148.3', destination_port: 53, expect: 'block' }),
    );
    for (const result of [pass, block]) {
      expect(result).toMatchObject({ ok: false, status: 'unknown', verdict: 'unknown' });
      expect(result?.why).toContain('depends on run-time contents');
    }
  });

  it('a flow on an interface the config does not have is an error, and the other flows still run', () => {
    const report = runPolicyTests(
      ruleset,
      parsePolicyTests({ flows: [flow({ name: 'gone', interface: 'opt7' }), flow({ name: 'fine' })] }),
    );
    expect(report.counts).toEqual({ ok: 1, failed: 0, unknown: 0, error: 1 });
    expect(report.passed).toBe(false);
    expect(report.results[0]).toMatchObject({ status: 'error', verdict: null, packet: 'opt7 in tcp 93.184.216.34 -> 85.10.20.2:443' });
  });

  it('judges each flow as a new connection: an earlier flow leaves no state behind', () => {
    // In one session the reply of the LAN connection would pass by its state; as a new connection the floating
    // block rule decides.
    const out = { interface: 'lan', source: '192.168.1.50', source_port: 40000, destination: '10.0.0.1', destination_port: 80 };
    const reply = { interface: 'lan', direction: 'out', source: '10.0.0.1', source_port: 80, destination: '192.168.1.50', destination_port: 40000 };
    const [first, second] = run(flow(out), flow({ ...reply, expect: 'block' }));
    expect(first?.ok).toBe(true);
    expect(second).toMatchObject({ ok: true, verdict: 'block', decidedBy: 'rule', rule: { descr: 'No replies from 10.0.0.1' } });
  });

  it('an empty file passes', () => {
    expect(runPolicyTests(ruleset, parsePolicyTests({ flows: [] }))).toMatchObject({ passed: true, total: 0 });
  });
});

describe('the file format', () => {
  it('reports every problem at once, each with its path and line', () => {
    const text = `{
  "version": 1,
  "flows": [
    { "name": "ok", "interface": "lan", "protocol": "tcp", "source": "192.168.1.5", "destination": "1.1.1.1",
      "destination_port": 443, "expect": "pass" },
    { "name": "ok", "interface": "lan", "protocol": "tcp", "source": "192.168.1.5", "destination": "1.1.1.1",
      "destination_port": 443, "expect": "allow" },
    { "name": "bad port", "interface": "lan", "protocol": "tcp", "source": "192.168.1.5",
      "destination": "1.1.1.1",
      "destination_port": 70000, "expect": "block" },
    { "name": "typo", "interface": "lan", "protocol": "udp", "source": "192.168.1.5", "destination": "1.1.1.1",
      "destination_port": 53, "expected": "pass" }
  ]
}`;
    const error = refusal(() => parsePolicyTestsText(text));
    expect(error.issues).toEqual([
      { path: 'flows[1].name', line: 6, message: 'duplicate of flows[0].name "ok"' },
      { path: 'flows[1].expect', line: 7, message: 'must be "pass", "block" or "reject" (got "allow")' },
      { path: 'flows[2].destination_port', line: 10, message: 'destination_port must be an integer 0-65535 (got 70000)' },
      { path: 'flows[3].expected', line: 12, message: expect.stringContaining('unknown key') },
      { path: 'flows[3].expect', line: 11, message: 'must be "pass", "block" or "reject" (got null)' },
    ]);
    expect(error.field).toBe('flows[1].name');
    expect(error.message).toContain('flows[2].destination_port (line 10): destination_port must be');
  });

  it.each([
    [[], '', 'must be an object'],
    [{ flows: {} }, 'flows', 'must be an array'],
    [{ flows: [], extra: 1 }, 'extra', 'unknown key'],
    [{ version: 2, flows: [] }, 'version', 'must be 1'],
    [{ flows: [7] }, 'flows[0]', 'must be an object'],
    [{ flows: [flow({ name: '' })] }, 'flows[0].name', 'non-empty string'],
    [{ flows: [flow({ source: undefined })] }, 'flows[0].source', 'is required'],
    [{ flows: [flow({ source: 'host.example' })] }, 'flows[0].source', 'source "host.example" is not an IPv4 or IPv6 address'],
    [{ flows: [flow({ destination: '2001:db8::1' })] }, 'flows[0].destination', 'different address families'],
    [{ flows: [flow({ direction: 'both' })] }, 'flows[0].direction', 'direction must be "in" or "out"'],
    [{ flows: [flow({ protocol: 'tcpp' })] }, 'flows[0].protocol', 'unknown protocol'],
    [{ flows: [flow({ destination_port: undefined })] }, 'flows[0].destination_port', 'needs a destination port'],
    [{ flows: [flow({ protocol: 'icmp', icmp_type: 'nope', destination_port: undefined })] }, 'flows[0].icmp_type', 'unknown ICMP type'],
    [{ flows: [flow({ tcp_flags: 'XYZ' })] }, 'flows[0].tcp_flags', 'tcp_flags must be'],
    [{ flows: [flow({ via: 42 })] }, 'flows[0].via', 'non-empty string'],
  ])('refuses %j at %s', (value, path, message) => {
    const error = refusal(() => parsePolicyTests(value));
    expect(error.issues[0]?.path).toBe(path);
    expect(error.issues[0]?.message).toContain(message);
  });

  it('names the line of a JSON syntax error', () => {
    const error = refusal(() => parsePolicyTestsText('{\n  "flows": [\n    {"name": "x",}\n  ]\n}'));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ path: '', line: 3, message: expect.stringContaining('not valid JSON') });
  });

  it('takes ports as digit strings and defaults the direction to in', () => {
    const suite = parsePolicyTests({ flows: [flow({ destination_port: '443' })] });
    expect(suite.flows[0]?.packet).toMatchObject({ direction: 'in', dstPort: '443' });
    expect(runPolicyTests(ruleset, suite).passed).toBe(true);
  });
});
