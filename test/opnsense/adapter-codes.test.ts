/**
 * @module Every OPN code the adapter produces, each from a real fault of the double (its answers are quoted from
 * upstream, test/opnsense/upstream/), plus validation-as-200 caught and the request shapes OPNsense needs.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OPN_CATALOG, type OpnCode, OpnSenseError } from '../../src/adapters/opnsense/index.ts';
import { type OpnSenseDouble, startDouble } from './device-double.ts';
import { adapterAt } from './helpers.ts';

async function codeOf(p: Promise<unknown>): Promise<OpnSenseError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpnSenseError);
  return err as OpnSenseError;
}

const seen = new Set<OpnCode>();
function expectCode(err: OpnSenseError, code: OpnCode): void {
  expect(err.code, err.message).toBe(code);
  expect(err.message).toContain(OPN_CATALOG[code].check);
  seen.add(code);
}

describe('OPNsense adapter error codes', () => {
  let dev: OpnSenseDouble;
  beforeAll(async () => {
    dev = await startDouble();
  });
  afterAll(async () => {
    await dev.close();
    // Every code of the catalog is produced by some fault above.
    expect([...seen].sort()).toEqual(Object.keys(OPN_CATALOG).sort());
  });
  beforeEach(() => {
    dev.acl = undefined;
    dev.readOnly = false;
  });

  const a = () => adapterAt(dev.url, dev.credentials);

  it('OPN000: nothing listens', async () => {
    const ad = adapterAt('http://127.0.0.1:1', dev.credentials);
    expectCode(await codeOf(ad.getAlias('x')), 'OPN000');
    await ad.close();
  });

  it('OPN001: wrong secret (401 "Authentication Failed"), never naming the secret', async () => {
    const ad = adapterAt(dev.url, { api_key: dev.credentials.api_key, api_secret: 'wrong-secret-value' });
    const err = await codeOf(ad.getAlias('x'));
    expectCode(err, 'OPN001');
    expect(err.message).not.toContain('wrong-secret-value');
    expect(err.message).not.toContain(dev.credentials.api_key);
    await ad.close();
  });

  it('OPN002: a missing ACL privilege is named (page-firewall-alias-edit, page-diagnostics-tables, page-diagnostics-showstates, page-filter-api)', async () => {
    const ad = a();
    dev.acl = ['core/'];
    let err = await codeOf(ad.getAlias('x'));
    expectCode(err, 'OPN002');
    expect(err.privilege).toBe('page-firewall-alias-edit');
    err = await codeOf(ad.runtimeTable('x'));
    expect(err.privilege).toBe('page-diagnostics-tables');
    err = await codeOf(ad.killStates('192.0.2.1'));
    expect(err.privilege).toBe('page-diagnostics-showstates');
    err = await codeOf(ad.call({ code: 'OPN500', what: 'add a rule' }, 'POST', '/api/firewall/filter/add_rule', { rule: {} }));
    expect(err.privilege).toBe('page-filter-api');
    expect(err.message).toContain('Firewall: Rules [new]');
    await ad.close();
  });

  it('OPN003: a TLS handshake that fails (https:// to a listener that does not speak TLS)', async () => {
    const ad = adapterAt(dev.url.replace('http:', 'https:'), dev.credentials);
    expectCode(await codeOf(ad.getAlias('x')), 'OPN003');
    await ad.close();
  });

  it('OPN004: the gateway hangs', async () => {
    const ad = adapterAt(dev.url, dev.credentials, { timeouts: { connectMs: 500, headersMs: 300, bodyMs: 300 }, retry: { maxRetries: 0 } });
    dev.fault('/api/firewall/alias/get_alias_uuid', { kind: 'hang' });
    expectCode(await codeOf(ad.getAlias('x')), 'OPN004');
    await ad.close();
  });

  it('OPN005: an endpoint this firmware lacks (404 "Endpoint not found")', async () => {
    const ad = a();
    expectCode(await codeOf(ad.call({ code: 'OPN300', what: 'x' }, 'GET', '/api/nope/nothing/here')), 'OPN005');
    await ad.close();
  });

  it('OPN006: a JSON content type with an empty body (400 "Invalid JSON syntax")', async () => {
    const ad = a();
    dev.fault('/api/firewall/alias/add_item', { kind: 'quoted', name: 'invalidJson' });
    expectCode(await codeOf(ad.createAlias('opn006', 'host', '')), 'OPN006');
    await ad.close();
  });

  it('OPN007: a UserException 500 ("Alias in use") names its title', async () => {
    const ad = a();
    dev.fault('/api/firewall/alias/get_alias_uuid', { kind: 'quoted', name: 'aliasInUse' }, 2);
    const err = await codeOf(ad.getAlias('x'));
    expectCode(err, 'OPN007');
    expect(err.message).toContain('Alias in use');
    await ad.close();
  });

  it('OPN008: a read-only user writing', async () => {
    const ad = a();
    dev.readOnly = true;
    expectCode(await codeOf(ad.createAlias('opn008', 'host', '')), 'OPN008');
    await ad.close();
  });

  it('OPN100: reading an alias fails with 200 result: failed', async () => {
    const ad = a();
    dev.fault('/api/firewall/alias/get_alias_uuid', { kind: 'status', status: 200, body: { result: 'failed' } });
    expectCode(await codeOf(ad.getAlias('x')), 'OPN100');
    await ad.close();
  });

  it('OPN101: validation as HTTP 200 is an error naming the field (name taken, built-in, reserved)', async () => {
    const ad = a();
    await ad.createAlias('taken', 'host', '');
    let err = await codeOf(ad.createAlias('taken', 'host', ''));
    expectCode(err, 'OPN101');
    expect(err.field).toBe('alias.name');
    expect(err.validations?.['alias.name']).toBe('An alias with this name already exists.');
    expect(err.httpStatus).toBe(200);
    err = await codeOf(ad.createAlias('bogons', 'host', ''));
    expect(err.message).toContain('built-in');
    err = await codeOf(ad.createAlias('table', 'host', ''));
    expect(err.message).toContain('reserved');
    err = await codeOf(ad.createAlias('a'.repeat(32), 'host', ''));
    expect(err.message).toContain('fewer than 32');
    await ad.close();
  });

  it('OPN102: a content entry the gateway refuses (200 result: failed, alias.content)', async () => {
    const ad = a();
    await ad.createAlias('opn102', 'host', '');
    const err = await codeOf(ad.setAliasEntries('opn102', [{ address: 'bad!entry', detail: '' }]));
    expectCode(err, 'OPN102');
    expect(err.field).toBe('alias.content');
    await ad.close();
  });

  it('OPN103 / OPN104: a missing alias, an alias that cannot hold addresses', async () => {
    const ad = a();
    expectCode(await codeOf(ad.setAliasEntries('missing_alias', [])), 'OPN103');
    dev.aliases.push({ uuid: '0b1c2d3e-0000-4000-8000-000000000104', name: 'geo', type: 'urltable', content: [], description: '', enabled: '1' });
    expectCode(await codeOf(ad.setAliasEntries('geo', [])), 'OPN104');
    await ad.close();
  });

  it('OPN200: reconfigure failing (500 "Error loading alias", and 200 status: failed)', async () => {
    const ad = a();
    dev.fault('/api/firewall/alias/reconfigure', { kind: 'quoted', name: 'reconfigureTableFull' });
    const err = await codeOf(ad.apply());
    expectCode(err, 'OPN200');
    expect(err.message).toContain('Error loading alias');
    dev.fault('/api/firewall/alias/reconfigure', { kind: 'quoted', name: 'reconfigureFailed' });
    expectCode(await codeOf(ad.apply()), 'OPN200');
    await ad.close();
  });

  it('OPN201: the savepoint refused on a firmware that should have it', async () => {
    const ad = a();
    const { opnsenseLiveWriter } = await import('../../src/adapters/opnsense/index.ts');
    const w = opnsenseLiveWriter(ad);
    dev.fault('/api/firewall/filter/savepoint', { kind: 'status', status: 200, body: { status: 'error' } });
    const body = { action: 'allow', interface: 'lan', ip_version: 'inet', protocol: 'tcp', source_address: 'any', source_port: null, dest_address: 'any', dest_port: '22', description: 'x', is_enabled: true, log_enabled: false } as const;
    expectCode(await codeOf(w.write({ kind: 'firewall_rule', op: 'create', target: null, body })), 'OPN201');
    await ad.close();
  });

  it('OPN300: a live read refused', async () => {
    const ad = a();
    dev.fault('/api/firewall/alias_util/list', { kind: 'status', status: 200, body: { status: 'failed' } });
    expectCode(await codeOf(ad.runtimeTable('x')), 'OPN300');
    await ad.close();
  });

  it('OPN301: IPv6 state kills are refused honestly; result: failed is this code too', async () => {
    const ad = a();
    const err = await codeOf(ad.killStates('2001:db8::7'));
    expectCode(err, 'OPN301');
    expect(dev.requests.some((r) => r.path.includes('kill_states') && r.body.includes('2001'))).toBe(false);
    dev.fault('/api/diagnostics/firewall/kill_states', { kind: 'quoted', name: 'killStatesFailed' });
    expectCode(await codeOf(ad.killStates('192.0.2.9')), 'OPN301');
    await ad.close();
  });

  it('OPN400: an HTML page instead of the API', async () => {
    const ad = a();
    dev.fault('/api/firewall/alias/get_alias_uuid', { kind: 'status', status: 200, text: '<html>login</html>', contentType: 'text/html' });
    const err = await codeOf(ad.getAlias('x'));
    expectCode(err, 'OPN400');
    expect(err.message).toContain('HTML');
    await ad.close();
  });

  it('OPN401: the pf table after reconfigure does not hold what was written', async () => {
    const ad = a();
    await ad.createAlias('opn401', 'host', '');
    await ad.setAliasEntries('opn401', [{ address: '192.0.2.41', detail: 'portcullis:g' }]);
    dev.fault('/api/firewall/alias_util/list/opn401', { kind: 'status', status: 200, body: { rows: [], total: 0, rowCount: 0, current: 1 } });
    const err = await codeOf(ad.apply());
    expectCode(err, 'OPN401');
    expect(err.message).toContain('192.0.2.41');
    await ad.close();
  });

  it('OPN500: a live write refused as 200 validation, naming the field', async () => {
    const ad = adapterAt(dev.url, dev.credentials);
    const { opnsenseLiveWriter } = await import('../../src/adapters/opnsense/index.ts');
    dev.version = '26.7';
    const w = opnsenseLiveWriter(ad);
    const body = { action: 'allow', interface: 'nosuchif', ip_version: 'inet', protocol: 'tcp', source_address: 'any', source_port: null, dest_address: 'any', dest_port: '22', description: 'x', is_enabled: true, log_enabled: false } as const;
    const err = await codeOf(w.write({ kind: 'firewall_rule', op: 'create', target: null, body }));
    expectCode(err, 'OPN500');
    expect(err.field).toBe('rule.interface');
    dev.version = '24.7.12';
    await ad.close();
  });
});

describe('OPNsense request shapes', () => {
  let dev: OpnSenseDouble;
  beforeAll(async () => {
    dev = await startDouble();
  });
  afterAll(async () => {
    await dev.close();
  });

  it('action POSTs carry no body and no JSON content type; data POSTs carry JSON; all Basic key:secret', async () => {
    const ad = adapterAt(dev.url, dev.credentials);
    await ad.createAlias('shapes', 'host', 'd');
    await ad.setAliasEntries('shapes', [{ address: '192.0.2.5', detail: '' }]);
    await ad.apply();
    const reconf = dev.requests.find((r) => r.path === '/api/firewall/alias/reconfigure');
    expect(reconf?.contentType).toBeUndefined();
    expect(reconf?.body).toBe('');
    const set = dev.requests.find((r) => r.path.startsWith('/api/firewall/alias/set_item/'));
    expect(set?.contentType).toBe('application/json');
    expect(JSON.parse(set?.body ?? '{}')).toMatchObject({ alias: { content: '192.0.2.5' } });
    await ad.close();
  });

  it('a missing Authorization header gets 401 with an empty body: OPN001', async () => {
    const res = await fetch(`${dev.url}/api/firewall/alias/search_item`);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('');
  });
});
