/**
 * @module Policy tests and traces over HTTP on a real app and store (PGlite): `POST /api/v1/policy/test` (report
 * equal to the library's, 400 naming the field with every problem), `POST /api/v1/policy/trace` (the result
 * shape `policy trace --json` prints, packet objects and lines, 400 naming the packet field), and a gateway's
 * stored tests (`GET/PUT /api/v1/firewall/gateways/{id}/policy-tests`, `…/run`): audited, 404 for another site's
 * gateway, 403 for a viewer writing, and the gate `runGatewayPolicyTests` the pending-change engine calls.
 */
import { readFileSync } from 'node:fs';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGatewayPolicyTests } from '../../src/firewall/policy-tests.ts';
import { createEvaluator } from '../../src/policy/evaluate.ts';
import { parseRuntimeFacts } from '../../src/policy/facts.ts';
import { loadPolicy } from '../../src/policy/import/index.ts';
import { parsePolicyTests, runPolicyTests } from '../../src/policy/tests.ts';
import { auditLog } from '../../src/store/schema/audit.ts';
import { type FirewallHarness, startFirewallHarness } from '../firewall/harness.ts';
import { testContext } from '../helpers/store.ts';
import { baseConfig, userRule } from '../policy/fixtures/builders.ts';
import { sshFromWan, webFromLan } from '../policy/fixtures/flows.ts';

const xml = readFileSync(new URL('../policy/fixtures/default-2.7.xml', import.meta.url), 'utf8');
const document = { version: 1, flows: [webFromLan, sshFromWan] };
/** The default config without "Default allow LAN to any rule" (IPv4): LAN IPv4 falls to the default deny. */
const noLanAllow = xml.replace(
  /<rule>\s*<type>pass<\/type>\s*<ipprotocol>inet<\/ipprotocol>\s*<descr><!\[CDATA\[Default allow LAN to any rule\]\]><\/descr>[\s\S]*?<\/rule>/,
  '',
);

let h: FirewallHarness;
let site: string;
let otherSite: string;
let gateway: string;
let otherGateway: string;
beforeAll(async () => {
  h = await startFirewallHarness('pglite');
  site = await h.site('policy-site');
  otherSite = await h.site('other-site');
  gateway = await h.gateway(site);
  otherGateway = await h.gateway(otherSite);
});
afterAll(async () => {
  await h?.close();
});

const post = (url: string, payload: unknown, token = h.ownerToken) =>
  h.call({ method: 'POST', url, payload: payload as Record<string, unknown>, token });

describe('POST /api/v1/policy/test', () => {
  it('answers the library report for config.xml text and a document', async () => {
    expect(noLanAllow).not.toBe(xml);
    const res = await post('/api/v1/policy/test', { config: noLanAllow, tests: document });
    expect(res.statusCode).toBe(200);
    const expected = runPolicyTests(loadPolicy(noLanAllow).ruleset, parsePolicyTests(document));
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(res.json()).toMatchObject({ passed: false, counts: { ok: 1, failed: 1 } });
    expect(res.json().results[0]).toMatchObject({ status: 'failed', verdict: 'block', explanation: expect.stringMatching(/^BLOCK: /) });
  });

  it('takes the tests as JSON text and a JSON model, with facts', async () => {
    const res = await post('/api/v1/policy/test', {
      config: loadPolicy(xml).config,
      tests: JSON.stringify(document),
      facts: { interfaces: { wan: { ipv4: '203.0.113.9/24' } } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ passed: true, total: 2, counts: { ok: 2 } });
  });

  it('answers 400 naming the field, every problem in the message', async () => {
    const bad = { flows: [{ ...webFromLan, expect: 'allow' }, { ...sshFromWan, destination_port: 'ssh' }] };
    const res = await post('/api/v1/policy/test', { config: xml, tests: bad });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'PC_ERR_VALIDATION', field: 'tests.flows[0].expect' });
    expect(res.json().error.message).toContain('tests.flows[1].destination_port');
    const text = await post('/api/v1/policy/test', { config: xml, tests: JSON.stringify(bad, null, 2) });
    expect(text.json().error.message).toMatch(/tests\.flows\[0\]\.expect \(line \d+\): must be "pass"/);
    const syntax = await post('/api/v1/policy/test', { config: xml, tests: '{\n"flows": [' });
    expect(syntax.json().error).toMatchObject({ field: 'tests', message: expect.stringMatching(/^tests \(line 2\): not valid JSON/) });
    const cases: Array<[unknown, string]> = [
      [{ config: xml, tests: '{"flows": [' }, 'tests'],
      [{ config: xml, tests: { flows: 'none' } }, 'tests.flows'],
      [{ config: '<pfsense', tests: document }, 'config'],
      [{ config: xml, tests: document, facts: { tables: { t: ['nope'] } } }, 'facts.tables.t[0]'],
      [{ config: xml }, 'tests'],
    ];
    for (const [payload, field] of cases) {
      const answer = await post('/api/v1/policy/test', payload);
      expect(answer.statusCode, field).toBe(400);
      expect(answer.json().error).toMatchObject({ code: 'PC_ERR_VALIDATION', field });
    }
  });
});

describe('POST /api/v1/policy/trace', () => {
  it('answers what `policy trace --json` prints: verdict, deciding rule, trace, explanation', async () => {
    const packet = { interface: 'lan', direction: 'in', proto: 'tcp', src: '192.168.1.50', srcPort: 40000, dst: '8.8.8.8', dstPort: 443 } as const;
    const res = await post('/api/v1/policy/trace', { config: xml, packet });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual(JSON.parse(JSON.stringify(createEvaluator(loadPolicy(xml).ruleset).evaluate(packet))));
    expect(body).toMatchObject({ verdict: 'pass', decidedBy: 'rule', rule: { tab: 'lan', position: 1, tracker: '0100000101' }, stateCreated: true });
    expect(body.trace.length).toBeGreaterThan(0);
    expect(body.trace.at(-1)).toMatchObject({ result: 'match', descr: 'Default allow LAN to any rule' });
    expect(body.explanation).toMatch(/^PASS: /);
  });

  it('takes the CLI line form and reports unknown verdicts with their possibilities', async () => {
    const config = baseConfig({
      aliases: [{ name: 'Feed', type: 'urltable', entries: [], descr: '', urls: ['https://127.0.0.1/feed.txt'] }],
      rules: [
        userRule({ type: 'block', destination: { kind: 'address', value: 'Feed', not: false }, descr: 'Feed' }),
        userRule({ descr: 'LAN out' }),
      ],
    });
    const res = await post('/api/v1/policy/trace', { config, packet: 'lan in udp 192.168.1.50 -> 45.9.148.3:53' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ verdict: 'unknown', rule: null });
    expect(res.json().possibilities.map((p: { verdict: string }) => p.verdict).sort()).toEqual(['block', 'pass']);
  });

  it('answers a translated packet with its NAT steps, as the library does', async () => {
    const natXml = readFileSync(new URL('../policy/fixtures/nat-2.7.xml', import.meta.url), 'utf8');
    const line = 'wan in tcp 93.184.216.34:40000 -> 85.10.20.2:8443 flags S';
    const res = await post('/api/v1/policy/trace', { config: natXml, packet: line });
    expect(res.statusCode).toBe(200);
    const expected = createEvaluator(loadPolicy(natXml).ruleset).evaluate({
      interface: 'wan', direction: 'in', proto: 'tcp', src: '93.184.216.34', srcPort: 40000, dst: '85.10.20.2', dstPort: 8443, tcpFlags: 'S',
    });
    expect(expected.translations?.length).toBeGreaterThan(0);
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it('answers 400 naming the packet field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ interface: 'lan', direction: 'in', proto: 'tcp', src: 'x', dst: '8.8.8.8', dstPort: 443 }, 'packet.src'],
      [{ interface: 'nope', direction: 'in', proto: 'tcp', src: '10.0.0.1', dst: '8.8.8.8', dstPort: 443 }, 'packet.interface'],
      [{ interface: 'lan', direction: 'in', proto: 'udp', src: '10.0.0.1', dst: '8.8.8.8' }, 'packet.dstPort'],
      ['lan in tcp 10.0.0.1 8.8.8.8', 'packet'],
      ['lan sideways tcp 10.0.0.1 -> 8.8.8.8:443', 'packet.direction'],
    ];
    for (const [packet, field] of cases) {
      const res = await post('/api/v1/policy/trace', { config: xml, packet });
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'PC_ERR_VALIDATION', field });
    }
  });
});

describe('a gateway\'s stored policy tests', () => {
  const url = (id: string) => `/api/v1/firewall/gateways/${id}/policy-tests`;

  it('reads as an empty document before anything is saved', async () => {
    expect(await h.ok('GET', url(gateway))).toEqual({ gateway_id: gateway, document: { version: 1, flows: [] }, updated_at: null, updated_by: null });
  });

  it('saves a document (audited), reads it back and runs it against a configuration', async () => {
    const saved = await h.ok('PUT', url(gateway), document);
    expect(saved).toMatchObject({ gateway_id: gateway, document, updated_by: h.ownerId });
    expect(await h.ok('GET', url(gateway))).toEqual(saved);
    const [entry] = await h.store.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'policy_tests.update'), eq(auditLog.targetId, gateway)));
    expect(entry).toMatchObject({ siteId: site, after: { flows: 2, names: [webFromLan.name, sshFromWan.name] } });
    expect(await h.ok('POST', `${url(gateway)}/run`, { config: xml })).toMatchObject({ passed: true, total: 2 });
    expect(await h.ok('POST', `${url(gateway)}/run`, { config: noLanAllow })).toMatchObject({ passed: false, counts: { failed: 1 } });
  });

  it('refuses a bad document as a whole: 400 naming the first field, nothing saved', async () => {
    const before = await h.ok('GET', url(gateway));
    const res = await h.call({
      method: 'PUT',
      url: url(gateway),
      token: h.ownerToken,
      payload: { flows: [webFromLan, { ...webFromLan, protocol: 'tcpp' }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'PC_ERR_VALIDATION', field: 'flows[1].name' });
    expect(res.json().error.message).toContain('flows[1].protocol: unknown protocol');
    expect(await h.ok('GET', url(gateway))).toEqual(before);
  });

  it('another site\'s gateway is a 404 for a site-bound user; a viewer cannot write (403)', async () => {
    const viewer = await h.makeUser('policy-viewer', 'viewer', [site]);
    const admin = await h.makeUser('policy-admin', 'admin', [site]);
    expect((await h.call({ method: 'GET', url: url(otherGateway), token: viewer.token })).statusCode).toBe(404);
    expect((await h.call({ method: 'PUT', url: url(otherGateway), token: admin.token, payload: document })).statusCode).toBe(404);
    expect((await h.call({ method: 'POST', url: `${url(otherGateway)}/run`, token: admin.token, payload: { config: xml } })).statusCode).toBe(404);
    expect((await h.call({ method: 'GET', url: url(gateway), token: viewer.token })).statusCode).toBe(200);
    expect((await h.call({ method: 'PUT', url: url(gateway), token: viewer.token, payload: document })).statusCode).toBe(403);
    expect((await h.call({ method: 'PUT', url: url(gateway), token: admin.token, payload: document })).statusCode).toBe(200);
    expect((await h.call({ method: 'GET', url: url('00000000-0000-4000-8000-00000000dead'), token: h.ownerToken })).statusCode).toBe(404);
  });

  it('the gate: runGatewayPolicyTests on an after-configuration (model or ruleset) names the failing flows', async () => {
    const ctx = testContext(h.store, { keyring: h.keyring });
    const good = await runGatewayPolicyTests(ctx, gateway, loadPolicy(xml).config);
    expect(good).toMatchObject({ passed: true, tested: 2, failures: [] });
    const bad = await runGatewayPolicyTests(ctx, gateway, loadPolicy(noLanAllow).ruleset);
    expect(bad.passed).toBe(false);
    expect(bad.failures).toHaveLength(1);
    expect(bad.failures[0]).toMatchObject({ name: webFromLan.name, status: 'failed', verdict: 'block' });
    // A lazily read after-configuration is read only when there are tests to run.
    let reads = 0;
    const lazily = async () => {
      reads++;
      return loadPolicy(noLanAllow).ruleset;
    };
    expect(await runGatewayPolicyTests(ctx, gateway, lazily)).toMatchObject({ passed: false, tested: 2 });
    expect(reads).toBe(1);
    // A gateway without tests passes whatever the configuration, without reading it.
    expect(await runGatewayPolicyTests(ctx, otherGateway, lazily)).toMatchObject({ passed: true, tested: 0, failures: [] });
    expect(reads).toBe(1);
  });

  it('the gate: a flow the config alone cannot decide fails as unknown; run-time facts decide it', async () => {
    const ctx = testContext(h.store, { keyring: h.keyring });
    const dhcpGateway = await h.gateway(site);
    // WAN is DHCP in this config: whether 203.0.113.9 is the WAN address is a run-time fact.
    const guiFromWan = xml.replace(
      '<filter>',
      '<filter><rule><type>pass</type><interface>wan</interface><ipprotocol>inet</ipprotocol><protocol>tcp</protocol><source><any/></source><destination><network>wanip</network><port>443</port></destination><descr>GUI from WAN</descr></rule>',
    );
    const flow = { name: 'GUI from WAN', interface: 'wan', protocol: 'tcp', source: '93.184.216.34', destination: '203.0.113.9', destination_port: 443, expect: 'pass' };
    await h.ok('PUT', url(dhcpGateway), { flows: [flow] });
    const { config } = loadPolicy(guiFromWan);
    const unknown = await runGatewayPolicyTests(ctx, dhcpGateway, config);
    expect(unknown).toMatchObject({ passed: false, failures: [{ name: 'GUI from WAN', status: 'unknown', verdict: 'unknown' }] });
    const facts = parseRuntimeFacts({ interfaces: { wan: { ipv4: '203.0.113.9/24' } } });
    expect(await runGatewayPolicyTests(ctx, dhcpGateway, config, { facts })).toMatchObject({ passed: true, failures: [] });
  });
});
