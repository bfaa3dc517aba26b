/**
 * @module Conformance of the emulator's management areas (docs/reference/pfrest-emulator.md §6): NAT, routing,
 * DNS resolver host overrides, DHCP static mappings and leases, status (system, CARP, services, ARP, VPN, logs),
 * reboot/halt — each over loopback HTTPS as pfRest serves it, with bad input and injected faults.
 */
import { Agent, request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type PfRestEmulator, startPfRestEmulator } from '../../src/emulators/pfrest/index.ts';

let emu: PfRestEmulator;
let agent: Agent;

beforeAll(async () => {
  emu = await startPfRestEmulator();
  agent = new Agent({ connect: { ca: emu.caPem } });
});
afterAll(async () => {
  await agent.close();
  await emu.close();
});
beforeEach(() => emu.reset());

type Obj = Record<string, unknown>;

interface Reply {
  status: number;
  body: { code: number; response_id: string; message: string; data: unknown };
}

/** The envelope's data as one object, or as a list of objects. */
const one = (r: Reply): Obj => r.body.data as Obj;
const rows = (r: Reply): Obj[] => r.body.data as Obj[];

async function call(
  method: string,
  path: string,
  o: { json?: unknown; query?: string; key?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { 'x-api-key': o.key ?? emu.apiKey };
  if (o.json !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${emu.url}${path}${o.query ? `?${o.query}` : ''}`, {
    method: method as 'GET',
    headers,
    dispatcher: agent,
    ...(o.json === undefined ? {} : { body: JSON.stringify(o.json) }),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Reply['body'] };
}

const hook = async (method: string, path: string, json: unknown) => {
  const res = await request(`${emu.url}${path}`, {
    method: method as 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(json),
    dispatcher: agent,
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
};

const refused = (r: Reply) => [r.status, r.body.response_id];

const PORT_FORWARD = {
  interface: 'wan',
  protocol: 'tcp',
  source: 'any',
  destination: 'wan:ip',
  destination_port: '8443',
  target: '192.168.1.20',
  local_port: '443',
  descr: 'web',
};

describe('NAT port forwards (§6.1)', () => {
  it('POST stores every model field in pfRest order, stamps the creator and marks natconf pending until apply', async () => {
    const r = await call('POST', '/api/v2/firewall/nat/port_forward', { json: PORT_FORWARD });
    expect(r.status).toBe(200);
    expect(Object.keys(one(r))).toEqual([
      'id', 'interface', 'ipprotocol', 'protocol', 'source', 'source_port', 'destination', 'destination_port',
      'target', 'local_port', 'disabled', 'nordr', 'nosync', 'descr', 'natreflection', 'associated_rule_id',
      'created_time', 'created_by', 'updated_time', 'updated_by',
    ]);
    expect(r.body.data).toMatchObject({ id: 0, ipprotocol: 'inet', source_port: null, natreflection: null });
    expect(one(r).created_by).toBe('admin@127.0.0.1 (API)');
    expect(one(await call('GET', '/api/v2/firewall/apply')).pending_subsystems).toEqual(['natconf']);
    await call('POST', '/api/v2/firewall/apply');
    expect((await call('GET', '/api/v2/firewall/apply')).body.data).toEqual({ applied: true, pending_subsystems: [] });
  });

  it.each([
    ['protocol missing', { protocol: undefined }, 'FIELD_IS_REQUIRED', 'protocol'],
    ['unknown interface', { interface: 'opt9' }, 'FIELD_INVALID_CHOICE', 'interface'],
    ['protocol not a choice', { protocol: 'sctp' }, 'FIELD_INVALID_CHOICE', 'protocol'],
    ['local port missing for tcp', { local_port: undefined }, 'FIELD_IS_REQUIRED', 'local_port'],
    ['bad port', { local_port: '70000' }, 'PORT_FIELD_INVALID', 'local_port'],
    ['bad target', { target: 'not-an-ip' }, 'SPECIAL_NETWORK_FIELD_INVALID', 'target'],
    ['bad source', { source: '300.1.1.1' }, 'FILTER_ADDRESS_FIELD_INVALID', 'source'],
    ['disabled not boolean', { disabled: 'yes' }, 'FIELD_INVALID_TYPE', 'disabled'],
  ])('%s → 400 %s naming %s, nothing stored', async (_label, change, id, field) => {
    const r = await call('POST', '/api/v2/firewall/nat/port_forward', { json: { ...PORT_FORWARD, ...change } });
    expect(refused(r)).toEqual([400, id]);
    expect(r.body.message).toContain(field);
    expect(emu.state().nat.portForwards).toEqual([]);
    expect(emu.state().pending).toEqual([]);
  });

  it('ports only apply to tcp/udp: an icmp forward stores null ports and needs no local_port', async () => {
    const r = await call('POST', '/api/v2/firewall/nat/port_forward', {
      json: { ...PORT_FORWARD, protocol: 'icmp', local_port: undefined },
    });
    expect(r.status).toBe(200);
    expect([one(r).destination_port, one(r).local_port]).toEqual([null, null]);
  });

  it('PATCH merges, keeps created_*, GET plural filters, DELETE removes; PUT replaces all', async () => {
    await call('POST', '/api/v2/firewall/nat/port_forward', { json: PORT_FORWARD });
    await call('POST', '/api/v2/firewall/nat/port_forward', { json: { ...PORT_FORWARD, destination_port: '2222', local_port: '22', descr: 'ssh' } });
    const patched = await call('PATCH', '/api/v2/firewall/nat/port_forward', { json: { id: 1, disabled: true } });
    expect(one(patched)).toMatchObject({ id: 1, disabled: true, descr: 'ssh', local_port: '22' });
    const filtered = await call('GET', '/api/v2/firewall/nat/port_forwards', { query: 'descr=ssh' });
    expect(rows(filtered).map((f) => f.id)).toEqual([1]);
    expect((await call('DELETE', '/api/v2/firewall/nat/port_forward', { query: 'id=0' })).status).toBe(200);
    expect(emu.state().nat.portForwards.map((f) => f.descr)).toEqual(['ssh']);
    const put = await call('PUT', '/api/v2/firewall/nat/port_forwards', { json: [PORT_FORWARD] });
    expect([put.status, emu.state().nat.portForwards.map((f) => f.descr)]).toEqual([200, ['web']]);
  });

  it('a fault injected on the port forward path answers with that envelope; the next call is normal', async () => {
    emu.injectFault({ kind: 'status', status: 503, path: '/api/v2/firewall/nat/port_forwards' });
    expect(refused(await call('GET', '/api/v2/firewall/nat/port_forwards'))).toEqual([503, 'MODEL_WRITE_CONFIG_LOCKED']);
    expect((await call('GET', '/api/v2/firewall/nat/port_forwards')).status).toBe(200);
  });
});

describe('NAT outbound and 1:1 (§6.1)', () => {
  it('an outbound no-NAT mapping drops the translation fields (conditions nonat=false)', async () => {
    const r = await call('POST', '/api/v2/firewall/nat/outbound/mapping', {
      json: { interface: 'wan', source: '192.168.1.0/24', destination: 'any', nonat: true },
    });
    expect(r.status).toBe(200);
    expect([one(r).target, one(r).target_subnet, one(r).poolopts]).toEqual([null, null, null]);
  });

  it('an outbound mapping needs a target when it translates; bad target_subnet is a range error', async () => {
    const base = { interface: 'wan', source: '192.168.1.0/24', destination: 'any' };
    expect(refused(await call('POST', '/api/v2/firewall/nat/outbound/mapping', { json: base }))).toEqual([400, 'FIELD_IS_REQUIRED']);
    expect(
      refused(await call('POST', '/api/v2/firewall/nat/outbound/mapping', { json: { ...base, target: '203.0.113.10', target_subnet: 0 } })),
    ).toEqual([400, 'NUMERIC_RANGE_VALIDATOR_MINIMUM_CONSTRAINT']);
    // The default target_subnet 128 is too large for an IPv4 target (`Models/OutboundNATMapping.inc:222-240`).
    expect(
      refused(await call('POST', '/api/v2/firewall/nat/outbound/mapping', { json: { ...base, target: '203.0.113.10' } })),
    ).toEqual([400, 'OUTBOUND_NAT_MAPPING_TARGET_SUBNET_TOO_LARGE_FOR_IPV4']);
    const ok = await call('POST', '/api/v2/firewall/nat/outbound/mapping', { json: { ...base, target: '203.0.113.10', target_subnet: 32 } });
    expect(ok.body.data).toMatchObject({ target: '203.0.113.10', target_subnet: 32, nat_port: '' });
    const v6 = await call('POST', '/api/v2/firewall/nat/outbound/mapping', { json: { ...base, target: '2001:db8::10' } });
    expect(v6.body.data).toMatchObject({ target: '2001:db8::10', target_subnet: 128 });
    // `<interface>:ip` is a target; a subnet is not (`allow_subnet: false`); target_subnet is dropped for it.
    const wan = await call('POST', '/api/v2/firewall/nat/outbound/mapping', { json: { ...base, target: 'wan:ip' } });
    expect(wan.body.data).toMatchObject({ target: 'wan:ip', target_subnet: null });
    expect(
      refused(await call('POST', '/api/v2/firewall/nat/outbound/mapping', { json: { ...base, target: '203.0.113.0/24' } })),
    ).toEqual([400, 'SPECIAL_NETWORK_FIELD_INVALID']);
  });

  it('the outbound mode reads and changes; a mode outside the four choices is refused', async () => {
    expect((await call('GET', '/api/v2/firewall/nat/outbound/mode')).body.data).toEqual({ mode: 'automatic' });
    expect((await call('PATCH', '/api/v2/firewall/nat/outbound/mode', { json: { mode: 'hybrid' } })).body.data).toEqual({ mode: 'hybrid' });
    expect(refused(await call('PATCH', '/api/v2/firewall/nat/outbound/mode', { json: { mode: 'manual' } }))).toEqual([400, 'FIELD_INVALID_CHOICE']);
    expect(emu.state().nat.outboundMode).toBe('hybrid');
  });

  it('a 1:1 mapping is stored with its defaults', async () => {
    const r = await call('POST', '/api/v2/firewall/nat/one_to_one/mapping', {
      json: { interface: 'wan', external: '203.0.113.20', source: '192.168.1.20', destination: 'any' },
    });
    expect(r.body.data).toEqual({
      id: 0, interface: 'wan', disabled: false, nobinat: false, natreflection: null, ipprotocol: 'inet',
      external: '203.0.113.20', source: '192.168.1.20', destination: 'any', descr: '',
    });
  });
});

describe('routing (§6.2)', () => {
  it('a static route stores its network address and stays pending until /routing/apply', async () => {
    const r = await call('POST', '/api/v2/routing/static_route', { json: { network: '10.1.2.3/16', gateway: 'WAN_DHCP' } });
    expect(r.body.data).toEqual({ id: 0, network: '10.1.0.0/16', gateway: 'WAN_DHCP', descr: '', disabled: false });
    expect((await call('GET', '/api/v2/routing/apply')).body.data).toEqual({ applied: false });
    expect((await call('POST', '/api/v2/routing/apply')).body.data).toEqual({ applied: true });
  });

  it('an unknown gateway is a 404 FOREIGN_MODEL_FIELD_VALUE_NOT_FOUND; a bad network is SUBNET_VALIDATOR_FAILED', async () => {
    expect(refused(await call('POST', '/api/v2/routing/static_route', { json: { network: '10.0.0.0/8', gateway: 'NOPE' } }))).toEqual([404, 'FOREIGN_MODEL_FIELD_VALUE_NOT_FOUND']);
    expect(refused(await call('POST', '/api/v2/routing/static_route', { json: { network: '10.0.0.0', gateway: 'WAN_DHCP' } }))).toEqual([400, 'SUBNET_VALIDATOR_FAILED']);
    expect(emu.state().staticRoutes).toEqual([]);
  });

  it('the plural static routes endpoint takes no PUT (upstream GET, DELETE)', async () => {
    expect(refused(await call('PUT', '/api/v2/routing/static_routes', { json: [] }))).toEqual([405, 'ENDPOINT_METHOD_NOT_ALLOWED']);
  });

  it('a gateway a static route uses cannot be deleted (409, kept); once the route is gone it can', async () => {
    await call('POST', '/api/v2/routing/static_route', { json: { network: '10.9.0.0/16', gateway: 'WAN_DHCP' } });
    const refusedDelete = await call('DELETE', '/api/v2/routing/gateways', { query: 'name=WAN_DHCP' });
    expect(refused(refusedDelete)).toEqual([409, 'MODEL_CANNOT_BE_DELETED_WHILE_REFERENCED']);
    expect(emu.state().gateways).toHaveLength(1);
    await call('DELETE', '/api/v2/routing/static_route', { query: 'id=0' });
    const deleted = await call('DELETE', '/api/v2/routing/gateways', { query: 'name=WAN_DHCP' });
    expect(rows(deleted).map((g) => g.name)).toEqual(['WAN_DHCP']);
    expect(emu.state().gateways).toEqual([]);
  });

  it('gateways and their live status are listed; a status the box reports is served as set', async () => {
    expect(rows(await call('GET', '/api/v2/routing/gateways'))[0]).toMatchObject({ id: 0, name: 'WAN_DHCP', interface: 'wan' });
    await hook('PATCH', '/__emulator/live', {
      gatewayStatus: [{ name: 'WAN_DHCP', srcip: '203.0.113.10', monitorip: '203.0.113.1', delay: 0, stddev: 0, loss: 100, status: 'down', substatus: 'highloss' }],
    });
    const s = await call('GET', '/api/v2/status/gateways');
    expect(s.body.data).toEqual([
      { id: 0, name: 'WAN_DHCP', srcip: '203.0.113.10', monitorip: '203.0.113.1', delay: 0, stddev: 0, loss: 100, status: 'down', substatus: 'highloss' },
    ]);
  });
});

describe('DNS resolver host overrides (§6.3)', () => {
  it('a host override is stored with an empty alias list and marks unbound until the resolver apply', async () => {
    const r = await call('POST', '/api/v2/services/dns_resolver/host_override', {
      json: { host: 'nas', domain: 'home.arpa', ip: ['192.168.1.5'] },
    });
    expect(r.body.data).toEqual({ id: 0, host: 'nas', domain: 'home.arpa', ip: ['192.168.1.5'], descr: '', aliases: [] });
    expect((await call('GET', '/api/v2/services/dns_resolver/apply')).body.data).toEqual({ applied: false });
    await call('POST', '/api/v2/services/dns_resolver/apply');
    expect(emu.state().pending).not.toContain('unbound');
  });

  it('every write re-sorts the overrides by host, so ids move (`sort_by` host)', async () => {
    const post = (host: string) =>
      call('POST', '/api/v2/services/dns_resolver/host_override', { json: { host, domain: 'home.arpa', ip: ['192.168.1.5'] } });
    expect((await post('nas')).body.data).toMatchObject({ id: 0, host: 'nas' });
    expect((await post('app')).body.data).toMatchObject({ id: 0, host: 'app' });
    const moved = await call('PATCH', '/api/v2/services/dns_resolver/host_override', { json: { id: 0, host: 'zoo' } });
    expect(moved.body.data).toMatchObject({ id: 1, host: 'zoo' });
    expect(emu.state().hostOverrides.map((o) => o.host)).toEqual(['nas', 'zoo']);
  });

  it.each([
    ['ip not an address', { ip: ['nas'] }, 'IP_ADDRESS_VALIDATOR_FAILED'],
    ['ip not a list', { ip: '192.168.1.5' }, 'FIELD_INVALID_MANY_VALUE'],
    ['domain missing', { domain: undefined }, 'FIELD_IS_REQUIRED'],
    ['bad host', { host: 'bad host' }, 'HOSTNAME_VALIDATOR_FAILED'],
  ])('%s → 400 %s', async (_label, change, id) => {
    const json = { host: 'nas', domain: 'home.arpa', ip: ['192.168.1.5'], ...change };
    expect(refused(await call('POST', '/api/v2/services/dns_resolver/host_override', { json }))).toEqual([400, id]);
    expect(emu.state().hostOverrides).toEqual([]);
  });
});

describe('DHCP static mappings and leases (§6.3)', () => {
  const mapping = { parent_id: 'lan', mac: '52:54:00:aa:bb:cc', ipaddr: '192.168.1.50', hostname: 'printer' };

  it('a mapping belongs to its DHCP server: parent_id comes first and the list is per interface', async () => {
    const r = await call('POST', '/api/v2/services/dhcp_server/static_mapping', { json: mapping });
    expect(r.status).toBe(200);
    expect(Object.keys(one(r)).slice(0, 4)).toEqual(['parent_id', 'id', 'mac', 'ipaddr']);
    expect(r.body.data).toMatchObject({ parent_id: 'lan', id: 0, defaultleasetime: 7200, maxleasetime: 86400 });
    const all = await call('GET', '/api/v2/services/dhcp_server/static_mappings');
    expect(rows(all).map((m) => m.mac)).toEqual(['52:54:00:aa:bb:cc']);
    expect((await call('GET', '/api/v2/services/dhcp_server/apply')).body.data).toEqual({ applied: false });
  });

  it.each([
    ['no parent', { parent_id: undefined }, 400, 'MODEL_PARENT_ID_REQUIRED'],
    ['unknown parent', { parent_id: 'opt7' }, 404, 'MODEL_PARENT_OBJECT_NOT_FOUND'],
    ['outside the LAN subnet', { ipaddr: '10.0.0.5' }, 400, 'DHCP_SERVER_STATIC_MAPPING_IPADDR_NOT_WITHIN_SUBNET'],
    // The LAN pool is 192.168.1.100-199 (pfRest 597d0e54 `DHCPServerStaticMapping.inc:161-170`, `:230-234`).
    ['inside the DHCP pool', { ipaddr: '192.168.1.150' }, 409, 'DHCP_SERVER_STATIC_MAPPING_IPADDR_OVERLAPS_EXISTING_OBJECT'],
    ['bad MAC', { mac: '52:54:00:aa:bb' }, 400, 'MAC_ADDRESS_VALIDATOR_FAILED'],
    ['max lease below default', { defaultleasetime: 7200, maxleasetime: 3600 }, 400, 'DHCP_SERVER_STATIC_MAPPING_MAX_LEASE_TIME_LESS_THAN_DEFAULT'],
    ['lease time below 60', { defaultleasetime: 30 }, 400, 'NUMERIC_RANGE_VALIDATOR_MINIMUM_CONSTRAINT'],
  ])('%s → %i %s, nothing stored', async (_label, change, status, id) => {
    const r = await call('POST', '/api/v2/services/dhcp_server/static_mapping', { json: { ...mapping, ...change } });
    expect(refused(r)).toEqual([status, id]);
    expect(emu.state().dhcpStaticMappings.lan).toEqual([]);
  });

  it('mappings are kept in natural address order (`sort_by` ipaddr, SORT_NATURAL)', async () => {
    await call('POST', '/api/v2/services/dhcp_server/static_mapping', { json: { ...mapping, ipaddr: '192.168.1.200' } });
    const r = await call('POST', '/api/v2/services/dhcp_server/static_mapping', {
      json: { ...mapping, mac: '52:54:00:aa:bb:cd', ipaddr: '192.168.1.9' },
    });
    expect(r.body.data).toMatchObject({ id: 0, ipaddr: '192.168.1.9' });
    expect(emu.state().dhcpStaticMappings.lan?.map((m) => m.ipaddr)).toEqual(['192.168.1.9', '192.168.1.200']);
  });

  it('the same MAC twice on one server is FIELD_MUST_BE_UNIQUE', async () => {
    await call('POST', '/api/v2/services/dhcp_server/static_mapping', { json: mapping });
    const r = await call('POST', '/api/v2/services/dhcp_server/static_mapping', { json: { ...mapping, ipaddr: '192.168.1.51' } });
    expect(refused(r)).toEqual([400, 'FIELD_MUST_BE_UNIQUE']);
  });

  it('DELETE on the plural removes the matching mappings of every server and marks dhcpd', async () => {
    await call('POST', '/api/v2/services/dhcp_server/static_mapping', { json: mapping });
    await call('POST', '/api/v2/services/dhcp_server/static_mapping', {
      json: { ...mapping, mac: '52:54:00:aa:bb:cd', ipaddr: '192.168.1.51', hostname: 'scanner' },
    });
    await call('POST', '/api/v2/services/dhcp_server/apply');
    const gone = await call('DELETE', '/api/v2/services/dhcp_server/static_mappings', { query: 'hostname=printer' });
    expect(rows(gone).map((m) => [m.parent_id, m.id, m.hostname])).toEqual([['lan', 0, 'printer']]);
    expect(emu.state().dhcpStaticMappings.lan?.map((m) => m.hostname)).toEqual(['scanner']);
    expect(emu.state().pending).toContain('dhcpd');
    expect(refused(await call('DELETE', '/api/v2/services/dhcp_server/static_mappings'))).toEqual([
      400,
      'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS',
    ]);
  });

  it('leases are what the box reports, filterable like any list', async () => {
    const leases = await call('GET', '/api/v2/status/dhcp_server/leases', { query: 'if=lan' });
    expect(rows(leases)[0]).toMatchObject({ id: 0, ip: '192.168.1.100', mac: '52:54:00:12:34:56', if: 'lan' });
    expect((await call('GET', '/api/v2/status/dhcp_server/leases', { query: 'if=wan' })).body.data).toEqual([]);
  });
});

describe('deleting what the box reports (§6.3, §6.4)', () => {
  it('DELETE a lease by query removes exactly it and answers it; without a query it is refused', async () => {
    expect(refused(await call('DELETE', '/api/v2/status/dhcp_server/leases'))).toEqual([
      400,
      'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS',
    ]);
    const gone = await call('DELETE', '/api/v2/status/dhcp_server/leases', { query: 'ip=192.168.1.100' });
    expect(rows(gone).map((l) => l.mac)).toEqual(['52:54:00:12:34:56']);
    expect(emu.state().live.dhcpLeases).toEqual([]);
  });

  it('DELETE an ARP entry by address keeps the others; all=true clears the table', async () => {
    const entry = (ip: string) => ({ ...emu.state().live.arp[0], ip_address: ip });
    emu.setLive({ arp: [entry('192.168.1.100'), entry('192.168.1.101')] });
    await call('DELETE', '/api/v2/diagnostics/arp_table', { query: 'ip_address=192.168.1.100' });
    expect(emu.state().live.arp.map((a) => a.ip_address)).toEqual(['192.168.1.101']);
    await call('DELETE', '/api/v2/diagnostics/arp_table', { query: 'all=true' });
    expect(emu.state().live.arp).toEqual([]);
  });
});

describe('status (§6.4)', () => {
  it('system status is one object with SystemStatus fields in order', async () => {
    const r = await call('GET', '/api/v2/status/system');
    expect(Object.keys(one(r))).toEqual([
      'platform', 'serial', 'netgate_id', 'uptime', 'bios_vendor', 'bios_version', 'bios_date', 'kernel_pti',
      'mds_mitigation', 'temp_c', 'temp_f', 'cpu_model', 'cpu_load_avg', 'cpu_count', 'cpu_usage', 'mbuf_usage',
      'mem_usage', 'swap_usage', 'disk_usage',
    ]);
  });

  it('CARP reads and enters maintenance mode; a non-boolean is refused', async () => {
    expect((await call('GET', '/api/v2/status/carp')).body.data).toEqual({ enable: false, maintenance_mode: false });
    expect((await call('PATCH', '/api/v2/status/carp', { json: { maintenance_mode: true } })).body.data).toEqual({ enable: false, maintenance_mode: true });
    expect(refused(await call('PATCH', '/api/v2/status/carp', { json: { enable: 'yes' } }))).toEqual([400, 'FIELD_INVALID_TYPE']);
  });

  it('services are listed; POST /status/service stops and starts one by id', async () => {
    const list = await call('GET', '/api/v2/status/services');
    const unbound = rows(list).find((s) => s.name === 'unbound') as Obj;
    expect(unbound).toMatchObject({ action: null, enabled: true, status: true });
    const stopped = await call('POST', '/api/v2/status/service', { json: { id: unbound.id, name: 'unbound', action: 'stop' } });
    expect(one(stopped)).toMatchObject({ id: unbound.id, name: 'unbound', action: 'stop', status: false });
    expect(emu.state().live.services.find((s) => s.name === 'unbound')?.status).toBe(false);
    await call('POST', '/api/v2/status/service', { json: { id: unbound.id, name: 'unbound', action: 'start' } });
    expect(emu.state().live.services.find((s) => s.name === 'unbound')?.status).toBe(true);
  });

  it.each([
    ['no id', { name: 'unbound', action: 'stop' }, 400, 'MODEL_REQUIRES_ID'],
    ['unknown id', { id: 99, name: 'unbound', action: 'stop' }, 404, 'MODEL_OBJECT_NOT_FOUND'],
    ['bad action', { id: 0, action: 'reload' }, 400, 'FIELD_INVALID_CHOICE'],
    ['missing action', { id: 0 }, 400, 'FIELD_IS_REQUIRED'],
  ])('service control with %s → %i %s', async (_label, json, status, id) => {
    expect(refused(await call('POST', '/api/v2/status/service', { json }))).toEqual([status, id]);
  });

  it('ARP entries and VPN status come from the box; a WireGuard preshared key is never represented', async () => {
    expect(rows(await call('GET', '/api/v2/diagnostics/arp_table'))[0]).toMatchObject({ ip_address: '192.168.1.100' });
    const set = await hook('PATCH', '/__emulator/live', {
      wireguardPeers: [{ tunnel_device: 'tun_wg0', public_key: 'PUB=', preshared_key: 'SECRET=', endpoint: '198.51.100.9:51820', allowed_ips: '10.6.0.2/32', latest_handshake: 1765000000, transfer_rx: 1, transfer_tx: 2, persistent_keepalive: '25', descr: 'phone' }],
      openvpnServers: [{ name: 'roadwarrior', mode: 'server_user', port: '1194', vpnid: 1, mgmt: 'server1', conns: [], routes: [] }],
    });
    expect(set.status).toBe(200);
    const peers = await call('GET', '/api/v2/status/wireguard/peers');
    expect(rows(peers)[0]).toMatchObject({ public_key: 'PUB=', descr: 'phone' });
    expect(JSON.stringify(peers.body)).not.toContain('SECRET=');
    expect(rows(await call('GET', '/api/v2/status/openvpn/servers'))[0]).toMatchObject({ name: 'roadwarrior', conns: [] });
    expect((await call('GET', '/api/v2/status/ipsec/sas')).body.data).toEqual([]);
    expect((await call('GET', '/api/v2/status/wireguard/tunnels')).body.data).toEqual([]);
    expect((await call('GET', '/api/v2/status/openvpn/clients')).body.data).toEqual([]);
  });

  it('faults injected through the HTTP hook reach the status endpoints: a dropped gateway poll, then a normal one', async () => {
    const injected = await hook('POST', '/__emulator/faults', { kind: 'drop', path: '/api/v2/status/gateways' });
    expect(injected.status).toBe(200);
    await expect(call('GET', '/api/v2/status/gateways')).rejects.toThrow();
    expect((await call('GET', '/api/v2/status/gateways')).status).toBe(200);
    expect(emu.requests().map((r) => r.fault)).toEqual(['drop', null]);
  });

  it('the live hook refuses an unknown view with 400', async () => {
    expect((await hook('PATCH', '/__emulator/live', { routingTable: [] })).status).toBe(400);
  });

  it('firewall and system logs are one `text` per line, oldest first', async () => {
    const all = await call('GET', '/api/v2/status/logs/firewall');
    expect(rows(all)).toHaveLength(2);
    expect(rows(all)[0]?.text).toMatch(/filterlog\[\d+\]: 5,,,1000000103,vtnet0,match,block,in,4,/);
    expect(rows(await call('GET', '/api/v2/status/logs/system'))[0]).toEqual({
      id: 0,
      text: expect.stringContaining('Filter reload complete'),
    });
  });

  it('log paging follows the log reader: limit takes the newest lines, reverse pages from the oldest', async () => {
    emu.setLive({ systemLog: ['l0', 'l1', 'l2', 'l3', 'l4'] });
    const page = async (query: string) =>
      rows(await call('GET', '/api/v2/status/logs/system', { query })).map((l) => [l.id, l.text]);
    expect(await page('limit=2')).toEqual([[0, 'l3'], [1, 'l4']]);
    expect(await page('limit=2&offset=1')).toEqual([[1, 'l2'], [2, 'l3']]);
    expect(await page('limit=2&reverse=true')).toEqual([[0, 'l1'], [1, 'l0']]);
    expect(await page('reverse=true')).toEqual([[0, 'l4'], [1, 'l3'], [2, 'l2'], [3, 'l1'], [4, 'l0']]);
    // A query reads every line: ids are line positions.
    expect(await page('text__contains=3')).toEqual([[3, 'l3']]);
  });

  it('reboot answers with empty data, then the box stops answering until it is back', async () => {
    const r = await call('POST', '/api/v2/diagnostics/reboot');
    expect([r.status, r.body.data]).toEqual([200, []]);
    await expect(call('GET', '/api/v2/status/system')).rejects.toThrow();
    emu.setLive({ power: 'on' });
    expect((await call('GET', '/api/v2/status/system')).status).toBe(200);
    await call('POST', '/api/v2/diagnostics/halt_system');
    expect(emu.state().live.power).toBe('halted');
  });
});

describe('privileges of the new endpoints (§3)', () => {
  it('a key holding exactly api-v2-firewall-nat-port-forwards-get reads port forwards and nothing else', async () => {
    const key = emu.addKey(['api-v2-firewall-nat-port-forwards-get']);
    expect((await call('GET', '/api/v2/firewall/nat/port_forwards', { key })).status).toBe(200);
    expect(refused(await call('POST', '/api/v2/firewall/nat/port_forward', { key, json: PORT_FORWARD }))).toEqual([403, 'AUTH_AUTHORIZATION_FAILED']);
    expect(refused(await call('GET', '/api/v2/status/system', { key }))).toEqual([403, 'AUTH_AUTHORIZATION_FAILED']);
  });

  it('read-only mode refuses service control and reboot with 405', async () => {
    emu.updateSettings({ read_only: true });
    expect(refused(await call('POST', '/api/v2/status/service', { json: { id: 0, name: 'dhcpd', action: 'stop' } }))).toEqual([405, 'ENDPOINT_METHOD_NOT_ALLOWED_IN_READ_ONLY_MODE']);
    expect(refused(await call('POST', '/api/v2/diagnostics/reboot'))).toEqual([405, 'ENDPOINT_METHOD_NOT_ALLOWED_IN_READ_ONLY_MODE']);
    expect(emu.state().live.power).toBe('on');
  });
});
