/**
 * @module `POST /api/v1/policy/lint` on a real app and store (PGlite): the report equals the library's and what
 * the real `portcullis policy lint --json` process prints for the same fixture, a JSON model works too, 400 naming
 * the field for a bad config, 401/403 without `firewall.view` (docs/policy-lint.md).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/policy/import/index.ts';
import { lintReport } from '../../src/policy/lint.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { baseConfig, userRule } from '../policy/fixtures/builders.ts';

const officePath = fileURLToPath(new URL('../policy/fixtures/office-2.7.xml', import.meta.url));
const office = readFileSync(officePath, 'utf8');
const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('pglite');
});
afterAll(async () => {
  await t?.close();
});

const post = (payload: unknown, token = t.ownerToken) =>
  t.call({ method: 'POST', url: '/api/v1/policy/lint', payload: payload as Record<string, unknown>, token });

describe('POST /api/v1/policy/lint', () => {
  it('answers the findings the library and `policy lint --json` give for a config.xml', async () => {
    const res = await post({ config: office });
    expect(res.statusCode).toBe(200);
    const { config, ruleset } = loadPolicy(office);
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(lintReport(ruleset, config))));
    // The CLI exits 1 because the office fixture has errors; its stdout is still the report.
    const cli = await promisify(execFile)(process.execPath, [bin, 'policy', 'lint', '--config', officePath, '--json']).catch(
      (error: { stdout: string }) => error,
    );
    expect(res.json()).toEqual(JSON.parse(cli.stdout));
    expect(res.json().findings).toContainEqual(
      expect.objectContaining({
        code: 'LINT001',
        severity: 'error',
        rule: expect.objectContaining({ tab: 'lan', position: 3 }),
        related: expect.arrayContaining([expect.objectContaining({ descr: 'Default allow LAN to any rule' })]),
      }),
    );
  });

  it('lints a JSON model: a rule after an identical one is redundant', async () => {
    const rule = userRule({ interface: 'lan', protocol: 'tcp', tracker: '100' });
    const res = await post({ config: baseConfig({ rules: [rule, { ...rule, tracker: '101' }] }) });
    expect(res.statusCode).toBe(200);
    expect(res.json().findings).toContainEqual(
      expect.objectContaining({ code: 'LINT002', kind: 'redundant', rule: expect.objectContaining({ tracker: '101' }) }),
    );
  });

  it('answers 400 naming the field for a bad config', async () => {
    const cases: Array<[unknown, string]> = [
      [{ config: '<pfsense><filter>' }, 'config'],
      [{ config: { ...baseConfig(), rules: [{ ...userRule({ interface: 'lan' }), type: 'allow' }] } }, 'config.rules[0].type'],
      [{}, 'config'],
    ];
    for (const [payload, field] of cases) {
      const res = await post(payload);
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'PC_ERR_VALIDATION', field });
    }
  });

  it('needs firewall.view: 401 without a credential, 403 without the permission, 200 for a viewer', async () => {
    const body = { config: baseConfig() };
    expect((await t.call({ method: 'POST', url: '/api/v1/policy/lint', payload: body })).statusCode).toBe(401);
    const nobody = await t.makeUser('no-role');
    expect((await post(body, nobody.token)).statusCode).toBe(403);
    const viewer = await t.makeUser('a-viewer', 'viewer');
    expect((await post(body, viewer.token)).statusCode).toBe(200);
  });
});
