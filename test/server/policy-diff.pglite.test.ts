/**
 * @module `POST /api/v1/policy/diff` on a real app and store: config.xml text and JSON models on either side, the
 * regions equal to the library's, the lock-out check, bodies larger than the server-wide limit, 400 naming the
 * field (malformed XML, a bad model field, a bad management path, a missing side), 401/403 without the permission.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffRulesets } from '../../src/policy/diff/index.ts';
import { generateRuleset } from '../../src/policy/generate/index.ts';
import { loadPolicy } from '../../src/policy/import/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { baseConfig, userRule } from '../policy/fixtures/builders.ts';
import { syntheticConfigXml } from '../policy/fixtures/synthetic.ts';

const xml = readFileSync(new URL('../policy/fixtures/default-2.7.xml', import.meta.url), 'utf8');
const opnsense = readFileSync(new URL('../policy/fixtures/opnsense/branch-office.xml', import.meta.url), 'utf8');
const openPort = userRule({
  interface: 'wan',
  protocol: 'tcp',
  tracker: '4242',
  destination: { kind: 'address', value: '85.10.20.2', port: '443', not: false },
});

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('pglite');
});
afterAll(async () => {
  await t?.close();
});

const post = (payload: unknown, token = t.ownerToken) =>
  t.call({ method: 'POST', url: '/api/v1/policy/diff', payload: payload as Record<string, unknown>, token });

describe('POST /api/v1/policy/diff', () => {
  it('diffs two JSON models: a newly opened port is exactly that region', async () => {
    const before = baseConfig();
    const after = baseConfig({ rules: [openPort] });
    const res = await post({ before, after });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.diff).toEqual(JSON.parse(JSON.stringify(diffRulesets(generateRuleset(before), generateRuleset(after)))));
    expect(body.diff.regions.length).toBeGreaterThan(0);
    for (const region of body.diff.regions) {
      expect(region).toMatchObject({
        change: 'newly-pass',
        interface: 'wan',
        destination: ['85.10.20.2/32'],
        destinationPorts: ['443'],
        after: { verdict: 'pass', rule: { tracker: '4242' } },
      });
    }
    expect(body.lockout).toBeNull();
  });

  it('takes config.xml text on one side and a JSON model text on the other, with the lock-out check', async () => {
    const model = JSON.stringify(loadPolicy(xml).config);
    const res = await post({
      before: xml,
      after: model,
      management: { interface: 'lan', source: '192.168.1.50', address: '192.168.1.1', port: 443 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().diff.regions).toEqual([]);
    expect(res.json().lockout).toMatchObject({ status: 'passes', after: { verdict: 'pass' } });
  });

  it('takes OPNsense config.xml text (docs/adr/0146-opnsense-configurations.md): the anti-lockout path and its removal', async () => {
    const management = { interface: 'lan', source: '192.168.1.50', address: '192.168.1.1', port: 443 };
    const same = await post({ before: opnsense, after: JSON.stringify(loadPolicy(opnsense).config), management });
    expect(same.statusCode).toBe(200);
    expect(same.json().diff.regions).toEqual([]);
    expect(same.json().lockout).toMatchObject({ status: 'passes', after: { verdict: 'pass' } });
    const locked = opnsense
      .replace('<webgui>', '<webgui><noantilockout/>')
      .replace('<descr>Default allow LAN to any rule</descr>', '<descr>Default allow LAN to any rule</descr><disabled>1</disabled>');
    const cut = await post({ before: opnsense, after: locked, management });
    expect(cut.statusCode).toBe(200);
    expect(cut.json().lockout).toMatchObject({
      status: 'cut',
      after: { verdict: 'block', rule: { descr: 'Default deny / state violation rule' } },
    });
  });

  it('reports a cut management path', async () => {
    const before = baseConfig();
    const after = baseConfig({ system: { ...before.system, webgui: { ...before.system.webgui, noAntiLockout: true } } });
    const res = await post({
      before,
      after,
      management: { interface: 'lan', source: '192.168.1.50', address: '192.168.1.1', port: 443, source_port: 50000 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().lockout).toMatchObject({
      status: 'cut',
      before: { verdict: 'pass' },
      after: { verdict: 'block', rule: { descr: 'Default deny rule IPv4' } },
    });
    expect(res.json().lockout.packet).toContain('192.168.1.50:50000');
  });

  it('accepts configs larger than the server-wide body limit', async () => {
    const big = syntheticConfigXml({ rules: 20, aliasCidrs: 100_000, aliases: 4 });
    expect(big.length).toBeGreaterThan(t.app.config.bodyLimit);
    const res = await post({ before: big, after: big });
    expect(res.statusCode).toBe(200);
    expect(res.json().diff.counts).toEqual({ 'newly-pass': 0, 'newly-block': 0, 'reply-changed': 0, unknown: 0 });
  });

  it('answers 400 naming the field for malformed XML, a bad model field, a missing side and a bad path', async () => {
    const cases: Array<[unknown, string]> = [
      [{ before: xml, after: '<pfsense' }, 'after'],
      [{ before: xml, after: '<pfsense><filter>' }, 'after'],
      [{ before: xml, after: '<pfsense><filter/></pfsense>' }, 'after.pfsense.interfaces'],
      [{ before: 'hello', after: xml }, 'before'],
      [{ before: { ...baseConfig(), rules: [{ ...openPort, type: 'allow' }] }, after: xml }, 'before.rules[0].type'],
      [{ before: xml }, 'after'],
      [{ before: xml, after: xml, management: { interface: 'lan', source: 'x', address: '192.168.1.1', port: 443 } }, 'management.source'],
      [{ before: xml, after: xml, management: { interface: 'nope', source: '10.0.0.1', address: '192.168.1.1', port: 443 } }, 'management.interface'],
      [{ before: xml, after: xml, management: { interface: 'lan', source: '10.0.0.1', address: '192.168.1.1', port: 0 } }, 'management.port'],
    ];
    for (const [payload, field] of cases) {
      const res = await post(payload);
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'PC_ERR_VALIDATION', field });
    }
  });

  it('needs firewall.view: 401 without a credential, 403 without the permission, 200 for a viewer', async () => {
    const body = { before: baseConfig(), after: baseConfig() };
    const anonymous = await t.call({ method: 'POST', url: '/api/v1/policy/diff', payload: body });
    expect(anonymous.statusCode).toBe(401);
    const nobody = await t.makeUser('no-role');
    expect((await post(body, nobody.token)).statusCode).toBe(403);
    const viewer = await t.makeUser('a-viewer', 'viewer');
    expect((await post(body, viewer.token)).statusCode).toBe(200);
  });
});
