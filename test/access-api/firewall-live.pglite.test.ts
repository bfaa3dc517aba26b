/**
 * @module Live reads of a pfSense gateway (`/api/v1/firewall/gateways/{id}/...`) against the real pfRest emulator
 * over loopback HTTPS: every read, a device fault giving the vendor code, secrets in VPN status redacted, another
 * site's gateway a 404, capability-off routes answering 501 without touching the device, bad input naming the
 * field, and the server-sent log stream receiving a new line and closing when the client leaves.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AccessHarness, startAccessHarness } from './harness.ts';

let h: AccessHarness;
let siteId: string;
let gatewayId: string;
const url = (path: string) => `/api/v1/firewall/gateways/${gatewayId}/${path}`;

async function get(path: string, token = h.ownerToken) {
  return h.call({ method: 'GET', url: url(path), token });
}

/** Replaces parts of what the emulated box reports (`PATCH /__emulator/live`). */
async function setLive(body: Record<string, unknown>): Promise<void> {
  h.emulator.setLive(body);
}

beforeAll(async () => {
  h = await startAccessHarness('pglite');
  siteId = await h.site('live-site');
  gatewayId = await h.gateway(siteId, 'live-gw');
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.emulator.clearFaults();
});

describe('each live read answers from the device', () => {
  it('status: version, platform, uptime and CPU from /status/system and /system/version', async () => {
    const res = await get('status');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.product_version).toBe(h.emulator.state().version.version);
    expect(body.platform).toBe('pfSense');
    expect(body.cpu).toMatchObject({ count: 2, usage_percent: 3.1, load_avg: [0.12, 0.08, 0.05] });
    expect(body.memory_usage_percent).toBe(21.4);
  });

  it('firewall-rules: neutral fields and the vendor tracker as vendor_rule_id, in device order', async () => {
    const rules = h.emulator.state().rules;
    const body = (await get('firewall-rules')).json();
    expect(body.items).toHaveLength(rules.length);
    const first = body.items[0];
    expect(first.vendor_rule_id).toBe(String(rules[0]?.tracker));
    expect(first.position).toBe(1);
    expect(['allow', 'deny', 'reject']).toContain(first.action);
    expect(first.vendor_data.tracker).toBe(rules[0]?.tracker);
    // The matching options a semantic preview needs, neutral: the lab's LAN rule is a plain tab rule.
    expect(first).toMatchObject({ floating: false, quick: true, icmp_types: null, schedule: null, unmodelled_options: [] });
  });

  it('nat-rules: a port forward created on the device is listed as dnat; outbound mode is read', async () => {
    const created = await fetchEmulator('POST', '/api/v2/firewall/nat/port_forward', {
      interface: 'wan',
      protocol: 'tcp',
      source: 'any',
      destination: 'wan:ip',
      destination_port: '8443',
      target: '192.168.1.50',
      local_port: '443',
      descr: 'web',
    });
    expect(created.code).toBe(200);
    const body = (await get('nat-rules')).json();
    expect(body.port_forwards).toEqual([
      expect.objectContaining({
        nat_type: 'dnat',
        destination_port: '8443',
        translated_address: '192.168.1.50',
        translated_port: '443',
        description: 'web',
        is_enabled: true,
      }),
    ]);
    expect(['automatic', 'hybrid', 'advanced', 'disabled']).toContain(body.outbound.mode);
    expect(body.one_to_one).toEqual([]);
  });

  it('aliases: names, types and entries', async () => {
    const body = (await get('aliases')).json();
    const names = h.emulator.state().aliases.map((a: { name: string }) => a.name);
    expect(body.items.map((a: { name: string }) => a.name)).toEqual(names);
  });

  it('interfaces: configuration merged with link status and counters', async () => {
    const body = (await get('interfaces')).json();
    const wan = body.items.find((i: { id: string }) => i.id === 'wan');
    // The emulator's interface rows carry no blockpriv / blockbogons: not said, never invented.
    expect(wan).toMatchObject({ enabled: true, status: 'up', mtu: 1500, ipv4_mode: 'dhcp', ipv6_mode: null, block_private: null });
    expect(body.items.find((i: { id: string }) => i.id === 'lan')).toMatchObject({ ipv4: '192.168.1.1/24', ipv4_mode: 'static' });
    expect(wan.counters).toEqual({
      in_bytes: 0,
      out_bytes: 0,
      in_packets: 0,
      out_packets: 0,
      in_errors: 0,
      out_errors: 0,
      collisions: 0,
    });
  });

  it('dhcp and arp: leases and neighbours as the box reports them', async () => {
    await setLive({
      dhcpLeases: [
        {
          ip: '192.168.1.77',
          mac: '52:54:00:aa:bb:cc',
          hostname: 'printer',
          if: 'lan',
          starts: 's',
          ends: 'e',
          active_status: 'active',
          online_status: 'active/online',
          descr: '',
        },
      ],
    });
    expect((await get('dhcp')).json().items).toEqual([
      expect.objectContaining({
        ip: '192.168.1.77',
        mac: '52:54:00:aa:bb:cc',
        hostname: 'printer',
        interface: 'lan',
      }),
    ]);
    const arp = (await get('arp')).json().items;
    expect(arp[0]).toMatchObject({ ip: '192.168.1.100', mac: '52:54:00:12:34:56', permanent: false });
  });

  it('ha-status: CARP enabled and maintenance mode', async () => {
    await setLive({ carp: { enable: true, maintenance_mode: true } });
    expect((await get('ha-status')).json()).toMatchObject({ carp_enabled: true, maintenance_mode: true });
    await setLive({ carp: { enable: false, maintenance_mode: false } });
  });

  it('services: enabled and running', async () => {
    const items = (await get('services')).json().items;
    expect(items).toContainEqual({ name: 'sshd', description: 'Secure Shell Daemon', enabled: false, running: false });
    expect(items).toContainEqual(expect.objectContaining({ name: 'unbound', running: true }));
  });

  it('diagnostics/connections: the first `limit` states and the table size', async () => {
    h.emulator.setStates([
      liveStateRow('198.51.100.1:5000', '203.0.113.10:22'),
      liveStateRow('198.51.100.2:5001', '203.0.113.10:22'),
      liveStateRow('198.51.100.3:5002', '203.0.113.10:22'),
    ]);
    const body = (await get('diagnostics/connections?limit=2')).json();
    expect(body.items).toHaveLength(2);
    expect(body.items[0]).toMatchObject({ source: '198.51.100.1:5000', packets: 10, bytes: 1000 });
    expect(body.current).toBe(3);
    expect(body.maximum).toBeGreaterThan(0);
  });

  it('logs: the newest lines of the chosen log, oldest first', async () => {
    await setLive({ systemLog: ['one', 'two', 'three'] });
    expect((await get('logs?type=system&limit=2')).json().items).toEqual([{ line: 'two' }, { line: 'three' }]);
    const firewall = (await get('logs')).json().items;
    expect(firewall[0].line).toContain('filterlog');
  });
});

describe('vpn', () => {
  it('lists OpenVPN, IPsec and WireGuard status with up/down stats', async () => {
    await setLive({
      openvpnClients: [
        { name: 'to-hq', vpnid: 1, status: 'up', state: 'CONNECTED', remote_host: '198.51.100.9' },
      ],
      ipsecSas: [{ con_id: 'con1', state: 'CONNECTING', remote_host: '198.51.100.10' }],
      wireguardTunnels: [],
      wireguardPeers: [],
    });
    const body = (await get('vpn')).json();
    expect(body.tunnels).toEqual([
      expect.objectContaining({
        vpn_type: 'openvpn',
        role: 'client',
        name: 'to-hq',
        status: 'up',
        remote_address: '198.51.100.9',
      }),
      expect.objectContaining({ vpn_type: 'ipsec', name: 'con1', status: 'down' }),
    ]);
    expect(body.stats).toEqual({ total: 2, up: 1, down: 1, unknown: 0 });
  });

  it('redacts secrets a device exposes (pfRest with expose_sensitive_fields on), keeping public keys', async () => {
    const peers = [
      {
        id: 0,
        tunnel_device: 'tun_wg0',
        public_key: 'PUBLICpeerKEY=',
        preshared_key: 'PSK-SECRET-VALUE=',
        endpoint: '198.51.100.20:51820',
        allowed_ips: '10.6.0.2/32',
        latest_handshake: 1765000000,
        descr: 'phone',
        privateKey: 'CAMEL-SECRET=',
      },
    ];
    h.emulator.injectFault({
      kind: 'raw',
      path: '/api/v2/status/wireguard/peers',
      status: 200,
      body: JSON.stringify({ code: 200, status: 'ok', response_id: 'SUCCESS', message: '', data: peers }),
    });
    const res = await get('vpn');
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('PSK-SECRET-VALUE');
    expect(res.body).not.toContain('CAMEL-SECRET');
    const peer = res.json().tunnels.find((t: { role: string }) => t.role === 'peer');
    expect(peer).toMatchObject({ name: 'phone', status: 'up', remote_address: '198.51.100.20:51820' });
    expect(peer.vendor_data).toMatchObject({
      public_key: 'PUBLICpeerKEY=',
      preshared_key: '[redacted]',
      privateKey: '[redacted]',
    });
  });
});

describe('health-check', () => {
  it('is healthy with every subsystem fine and CARP skipped when not configured', async () => {
    const body = (await get('health-check')).json();
    expect(body.healthy).toBe(true);
    const names = body.checks.map((c: { name: string }) => c.name);
    expect(names).toEqual(['reachability', 'interfaces', 'gateways', 'services', 'carp']);
    expect(body.checks.find((c: { name: string }) => c.name === 'carp').healthy).toBeNull();
  });

  it('is unhealthy when a gateway is down or an enabled service stopped, naming them', async () => {
    const state = h.emulator.state().live;
    await setLive({
      gatewayStatus: [{ ...state.gatewayStatus[0], status: 'down' }],
      services: state.services.map((s: { name: string }) => (s.name === 'unbound' ? { ...s, status: false } : s)),
    });
    try {
      const body = (await get('health-check')).json();
      expect(body.healthy).toBe(false);
      const by = Object.fromEntries(body.checks.map((c: { name: string }) => [c.name, c]));
      expect(by.gateways).toMatchObject({ healthy: false, detail: 'not online: WAN_DHCP (down)' });
      expect(by.services).toMatchObject({ healthy: false, detail: 'stopped: unbound' });
      expect(by.interfaces.healthy).toBe(true);
    } finally {
      await setLive({ gatewayStatus: state.gatewayStatus, services: state.services });
    }
  });

  it('marks one subsystem failed with the vendor code when its read fails', async () => {
    h.emulator.injectFault({ kind: 'status', status: 500, path: '/api/v2/status/services', times: 5 });
    const body = (await get('health-check')).json();
    expect(body.healthy).toBe(false);
    const services = body.checks.find((c: { name: string }) => c.name === 'services');
    expect(services).toMatchObject({ healthy: false, error: { code: 'PFS300' } });
  });
});

describe('failures', () => {
  it('a device fault answers 502 PC_ERR_DEVICE with the vendor code', async () => {
    h.emulator.injectFault({ kind: 'status', status: 500, path: '/api/v2/status/carp' });
    const res = await get('ha-status');
    expect(res.statusCode).toBe(502);
    expect(res.json().error.code).toBe('PC_ERR_DEVICE');
    expect(res.json().error.message).toMatch(/^PFS300 live read failed/);
    expect(res.body).not.toContain(h.emulator.apiKey);
  });

  it('a refused key is PFS001 and a non-JSON answer PFS400', async () => {
    h.emulator.injectFault({ kind: 'status', status: 401, path: '/api/v2/status/services' });
    expect((await get('services')).json().error.message).toMatch(/^PFS001/);
    h.emulator.injectFault({ kind: 'non-json', path: '/api/v2/diagnostics/arp_table' });
    expect((await get('arp')).json().error.message).toMatch(/^PFS400/);
  });

  it.each([
    ['routes/table', 'read.routes'],
    ['diagnostics/pf-info', 'read.pf_info'],
    ['config/download', 'read.config'],
    ['bridge-vlans', 'read.bridge_vlans'],
  ])('%s is off for pfSense: 501 PC_ERR_CAPABILITY_UNAVAILABLE and nothing sent to the device', async (path, capability) => {
    h.emulator.clearRequests();
    const res = await get(path);
    expect(res.statusCode).toBe(501);
    expect(res.json().error.code).toBe('PC_ERR_CAPABILITY_UNAVAILABLE');
    expect(res.json().error.message).toContain(capability);
    expect(h.emulator.requests()).toEqual([]);
  });

  it('the config download needs firewall.admin: a viewer of the site gets 403 before anything is read', async () => {
    const viewer = await h.makeUser('config-viewer', 'viewer', [siteId]);
    h.emulator.clearRequests();
    const res = await h.call({ method: 'GET', url: `/api/v1/firewall/gateways/${gatewayId}/config/download`, token: viewer.token });
    expect(res.statusCode).toBe(403);
    expect(h.emulator.requests()).toEqual([]);
  });

  it("another site's gateway is a 404 for a viewer of one site, and a 200 on their own", async () => {
    const otherSite = await h.site('other-site');
    const otherGateway = await h.gateway(otherSite, 'other-gw');
    const viewer = await h.makeUser('live-viewer', 'viewer', [siteId]);
    const foreign = await h.call({
      method: 'GET',
      url: `/api/v1/firewall/gateways/${otherGateway}/status`,
      token: viewer.token,
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('PC_ERR_NOT_FOUND');
    expect((await get('status', viewer.token)).statusCode).toBe(200);
  });

  it('an unknown gateway is a 404; bad query values are 400s naming the field', async () => {
    const missing = await h.call({
      method: 'GET',
      url: '/api/v1/firewall/gateways/7f1c1f8e-0000-4000-8000-000000000000/arp',
      token: h.ownerToken,
    });
    expect(missing.statusCode).toBe(404);
    const badLimit = await get('diagnostics/connections?limit=0');
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.json().error.field).toBe('limit');
    const badType = await get('logs?type=kernel');
    expect(badType.statusCode).toBe(400);
    expect(badType.json().error.field).toBe('type');
    const badInterval = await get('logs/stream?interval_seconds=600');
    expect(badInterval.statusCode).toBe(400);
    expect(badInterval.json().error.field).toBe('interval_seconds');
  });

  it('firewall.view without firewall.view_logs reads status but not the logs', async () => {
    const role = await h.call({
      method: 'POST',
      url: '/api/v1/roles',
      token: h.ownerToken,
      payload: { name: 'fw-view-only', permissions: ['firewall.view'] },
    });
    expect(role.statusCode).toBe(201);
    const user = await h.makeUser('live-nologs');
    const binding = await h.call({
      method: 'POST',
      url: '/api/v1/role-bindings',
      token: h.ownerToken,
      payload: { role_id: role.json().id, user_id: user.id, site_ids: [siteId] },
    });
    expect(binding.statusCode).toBe(201);
    expect((await get('status', user.token)).statusCode).toBe(200);
    const logs = await get('logs', user.token);
    expect(logs.statusCode).toBe(403);
    expect(logs.json().error.message).toContain('firewall.view_logs');
    expect((await get('logs/stream', user.token)).statusCode).toBe(403);
  });

  it('a gateway PATCH drops the cached adapter: a new wrong key is used at once (PFS001), the right one again after', async () => {
    const patch = (api_key: string) =>
      h.call({
        method: 'PATCH',
        url: `/api/v1/firewall/gateways/${gatewayId}`,
        token: h.ownerToken,
        payload: { api_key },
      });
    expect((await get('arp')).statusCode).toBe(200);
    expect((await patch('not-the-key-0123456789')).statusCode).toBe(200);
    try {
      const res = await get('arp');
      expect(res.statusCode).toBe(502);
      expect(res.json().error.message).toMatch(/^PFS001 authentication failed/);
      expect(res.body).not.toContain('not-the-key-0123456789');
    } finally {
      expect((await patch(h.emulator.apiKey)).statusCode).toBe(200);
    }
    expect((await get('arp')).statusCode).toBe(200);
  });
});

describe('logs/stream (server-sent events)', () => {
  it('pushes a line appended on the device, then closes when the client disconnects', async () => {
    await setLive({ firewallLog: ['old line 1', 'old line 2'] });
    const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { received, close, status, contentType } = await openStream(
      `${address}${url('logs/stream?interval_seconds=1&max_seconds=20')}`,
      h.ownerToken,
    );
    expect(status).toBe(200);
    expect(contentType).toContain('text/event-stream');
    await setLive({ firewallLog: ['old line 1', 'old line 2', 'new line 3'] });
    await waitFor(() => received().includes('new line 3'), 5_000);
    const text = received();
    expect(text).toContain('event: line\ndata: {"line":"new line 3"}');
    expect(text).not.toContain('old line 1');
    close();
    // A poll already in flight may still land; after that, nothing more reaches the device.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const settled = h.emulator.requests().length;
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    expect(h.emulator.requests().length).toBe(settled);
  });

  it('reports a device fault mid-stream as an `error` event with the vendor code and keeps following', async () => {
    const address = h.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await setLive({ firewallLog: ['a'] });
    const stream = await openStream(
      `http://127.0.0.1:${port}${url('logs/stream?interval_seconds=1&max_seconds=10')}`,
      h.ownerToken,
    );
    h.emulator.injectFault({ kind: 'status', status: 500, path: '/api/v2/status/logs/firewall' });
    await waitFor(() => stream.received().includes('event: error'), 5_000);
    expect(stream.received()).toMatch(/event: error\ndata: \{"code":"PFS300","message":"PFS300 live read failed/);
    await setLive({ firewallLog: ['a', 'b after the fault'] });
    await waitFor(() => stream.received().includes('b after the fault'), 5_000);
    stream.close();
  });

  it('ends with an `end` event when its lifetime is over', async () => {
    const address = h.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const { received, ended } = await openStream(
      `http://127.0.0.1:${port}${url('logs/stream?interval_seconds=1&max_seconds=1&type=system')}`,
      h.ownerToken,
    );
    await ended;
    expect(received()).toContain('event: end\ndata: {"reason":"lifetime"}');
  });
});

describe('server shutdown', () => {
  it('ends open log streams (`end`, reason closed) instead of waiting out their lifetime', async () => {
    const own = await startAccessHarness('pglite', {}, { emulator: h.emulator });
    try {
      const gateway = await own.gateway(await own.site('shutdown-site'), 'shutdown-gw');
      const address = await own.app.listen({ port: 0, host: '127.0.0.1' });
      const stream = await openStream(
        `${address}/api/v1/firewall/gateways/${gateway}/logs/stream?interval_seconds=1&max_seconds=600`,
        own.ownerToken,
      );
      expect(stream.status).toBe(200);
      const started = Date.now();
      await own.app.close();
      await stream.ended;
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(stream.received()).toContain('event: end\ndata: {"reason":"closed"}');
    } finally {
      await own.close().catch(() => undefined);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

function liveStateRow(source: string, destination: string) {
  return {
    interface: 'wan',
    protocol: 'tcp',
    direction: 'in',
    source,
    destination,
    state: 'ESTABLISHED:ESTABLISHED',
    age: '00:05:00',
    expires_in: '23:55:00',
    packets_total: 10,
    packets_in: 6,
    packets_out: 4,
    bytes_total: 1000,
    bytes_in: 600,
    bytes_out: 400,
  };
}

/** A pfRest call straight to the emulator (as an operator editing the box would). */
async function fetchEmulator(method: string, path: string, body: unknown): Promise<{ code: number }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(
      `${h.emulator.url}${path}`,
      {
        method,
        ca: h.emulator.caPem,
        headers: { 'x-api-key': h.emulator.apiKey, 'content-type': 'application/json', accept: 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function openStream(target: string, token: string) {
  let text = '';
  let finish: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const { status, contentType, destroy } = await new Promise<{ status: number; contentType: string; destroy: () => void }>(
    (resolve, reject) => {
      const req = httpRequest(target, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', finish);
        res.on('close', finish);
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), destroy: () => req.destroy() });
      });
      req.on('error', (err) => {
        finish();
        if (!text) reject(err);
      });
      req.end();
    },
  );
  return { status, contentType, received: () => text, close: destroy, ended };
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
