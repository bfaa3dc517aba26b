/**
 * @module `/api/v1/firewall/gateways/{id}/...` live reads (docs/reference/freesdn-firewall-module.md §10.2, §10.4,
 * §9): thin routes over src/firewall/live.ts. Permission `firewall.view` (logs: `firewall.view_logs`) on the
 * gateway's site; a gateway of another site is a 404. A read the vendor cannot serve answers 501
 * `PC_ERR_CAPABILITY_UNAVAILABLE` before the device is contacted; a device failure answers 502 `PC_ERR_DEVICE`
 * with the vendor code. `logs/stream` is server-sent events: the device log polled at a bounded interval.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { LiveGateway } from '../../adapters/live.ts';
import type { Capability } from '../../adapters/registry.ts';
import { requireVendor } from '../../firewall/adapter.ts';
import { getGateway } from '../../firewall/gateways.ts';
import {
  followLog,
  fromDevice,
  type LogStreamEvent,
  LIVE_LIMIT_MAX,
  liveGateway,
  requireLiveCapability,
} from '../../firewall/live.ts';
import type { Permission } from '../../identity/permissions.ts';
import { ctxOf } from '../context.ts';
import { ApiError } from '../errors.ts';
import { requireSite } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams } from '../schemas.ts';

const tags = ['firewall-live'];
const BASE = '/api/v1/firewall/gateways/:id';
/** Live answers are vendor-shaped under `vendor_data`; their neutral fields are listed in docs/api.md. */
const LiveAnswer = Type.Object({}, { additionalProperties: true });
/** Open log streams per server: each holds a connection and polls a device. */
const MAX_LOG_STREAMS = 32;

/**
 * The gateway's live view after the permission, site and capability checks. The one place that obtains the
 * adapter (today the access runtime's cache, which a gateway PATCH empties).
 */
async function liveFor(
  request: FastifyRequest,
  gatewayId: string,
  permission: Permission,
  capability: Capability,
): Promise<LiveGateway> {
  const gateway = await getGateway(ctxOf(request), gatewayId);
  requireSite(request, permission, gateway.siteId, 'read');
  requireLiveCapability(requireVendor(gateway.vendor), capability);
  const { vendor, adapter } = await fromDevice(() => request.server.access.adapters.get(gateway.id));
  return liveGateway(vendor, adapter);
}

const LogKind = Type.Optional(
  Type.Union([Type.Literal('firewall'), Type.Literal('system')], { default: 'firewall' }),
);
/** An optional integer query value in [minimum, maximum]; the handler applies `fallback` (the documented default). */
const Int = (minimum: number, maximum: number, fallback: number) =>
  Type.Optional(Type.Integer({ minimum, maximum, default: fallback }));

/** The wrapped live view (src/firewall/live.ts) offers every optional read; its flag was checked before. */
function unreachable(method: string): never {
  throw new Error(`unreachable: the wrapped live view has no ${method}()`);
}

export const firewallLiveRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  /** One controller per open log stream: aborted when its client leaves or the server shuts down. */
  const streams = new Set<AbortController>();
  // Before the server stops accepting: end every stream, or closing would wait out their lifetimes.
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.abort();
  });

  /** A plain live read: `GET {BASE}/{path}` answering `read(live)`. */
  const simple = (
    path: string,
    capability: Capability,
    summary: string,
    read: (live: LiveGateway) => Promise<object>,
  ) =>
    app.get(
      `${BASE}/${path}`,
      {
        config: { permission: 'firewall.view' },
        schema: { tags, summary, params: IdParams, response: { 200: LiveAnswer, ...ERROR_RESPONSES } },
      },
      async (request) => read(await liveFor(request, request.params.id, 'firewall.view', capability)),
    );

  simple('status', 'read.status', 'Live system status (version, uptime, CPU, memory, disk)', (l) => l.status());
  simple('firewall-rules', 'read.rules', "The device's firewall rules, in order", (l) => l.firewallRules());
  simple('nat-rules', 'read.nat', "The device's port forwards, outbound NAT and 1:1 NAT", (l) => l.natRules());
  simple('aliases', 'read.aliases', "The device's aliases (firewall objects)", (l) => l.aliases());
  simple('interfaces', 'read.interfaces', 'Interfaces with link status and counters', (l) => l.interfaces());
  simple('dhcp', 'read.dhcp_leases', 'DHCP leases', (l) => l.dhcpLeases());
  simple('arp', 'read.arp', 'ARP table', (l) => l.arp());
  simple('bridge-vlans', 'read.bridge_vlans', "VLANs carried on the device's bridges, with tagged and untagged ports", (l) =>
    l.bridgeVlans ? l.bridgeVlans() : Promise.reject(new Error('the live view has no bridgeVlans()')),
  );
  simple('vlan-interfaces', 'read.vlan_interfaces', 'VLAN interfaces: each VLAN with its assignment and static addresses', (l) =>
    l.vlanInterfaces ? l.vlanInterfaces() : unreachable('vlanInterfaces'),
  );
  simple('dhcp/scopes', 'read.dhcp_scopes', 'DHCPv4 scopes: the server of each interface (range, gateway, DNS)', (l) =>
    l.dhcpScopes ? l.dhcpScopes() : unreachable('dhcpScopes'),
  );
  simple('dhcp/static-mappings', 'read.dhcp_static_mappings', 'DHCP static mappings (fixed address per MAC)', (l) =>
    l.dhcpStaticMappings ? l.dhcpStaticMappings() : unreachable('dhcpStaticMappings'),
  );
  simple('dns/overrides', 'read.dns_overrides', 'DNS resolver host overrides', (l) =>
    l.dnsOverrides ? l.dnsOverrides() : unreachable('dnsOverrides'),
  );
  simple('health-check', 'read.health', 'Health across subsystems: one `healthy` and one result per check', (l) =>
    l.healthCheck(),
  );
  simple('ha-status', 'read.ha_status', 'CARP / high-availability state', (l) => l.haStatus());
  simple('vpn', 'read.vpn', 'OpenVPN, IPsec and WireGuard status (secrets redacted)', (l) => l.vpn());
  simple('services', 'read.services', 'Services and whether they run', (l) => l.services());
  simple('routes/table', 'read.routes', 'Kernel routing table (501 where the vendor API has none)', () => {
    throw new Error('unreachable: no vendor serves live.routes yet');
  });
  simple('diagnostics/pf-info', 'read.pf_info', 'pf status and counters (501 where the vendor API has none)', () => {
    throw new Error('unreachable: no vendor serves live.pf_info yet');
  });

  // The running configuration holds every secret of the device: firewall.admin, not firewall.view (the spec's
  // `controller:write` is a core code outside this catalog; docs/reference/freesdn-firewall-module.md §10.3).
  app.get(
    `${BASE}/config/download`,
    {
      config: { permission: 'firewall.admin' },
      schema: {
        tags,
        summary: 'Download the running configuration (firewall.admin; 501 where the vendor API has none)',
        params: IdParams,
        response: { 200: LiveAnswer, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      await liveFor(request, request.params.id, 'firewall.admin', 'read.config');
      throw new Error('unreachable: no vendor serves live.config yet');
    },
  );

  app.get(
    `${BASE}/diagnostics/connections`,
    {
      config: { permission: 'firewall.view' },
      schema: {
        tags,
        summary: 'Active pf states (connections), the first `limit` of the table, with its size',
        params: IdParams,
        querystring: Type.Object(
          { limit: Int(1, LIVE_LIMIT_MAX, 100) },
          { additionalProperties: false },
        ),
        response: { 200: LiveAnswer, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const live = await liveFor(request, request.params.id, 'firewall.view', 'read.states');
      return live.connections(request.query.limit ?? 100);
    },
  );

  app.get(
    `${BASE}/logs`,
    {
      config: { permission: 'firewall.view_logs' },
      schema: {
        tags,
        summary: 'The newest raw lines of the firewall or system log, oldest first',
        params: IdParams,
        querystring: Type.Object(
          { type: LogKind, limit: Int(1, LIVE_LIMIT_MAX, 100) },
          { additionalProperties: false },
        ),
        response: { 200: LiveAnswer, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const live = await liveFor(request, request.params.id, 'firewall.view_logs', 'read.logs');
      return live.logs(request.query.type ?? 'firewall', request.query.limit ?? 100);
    },
  );

  app.get(
    `${BASE}/logs/stream`,
    {
      config: { permission: 'firewall.view_logs' },
      schema: {
        tags,
        summary:
          'Server-sent events: new log lines as they appear (polled every interval_seconds; ends after max_seconds)',
        params: IdParams,
        querystring: Type.Object(
          {
            type: LogKind,
            interval_seconds: Int(1, 60, 2),
            max_seconds: Int(1, 3_600, 300),
            tail: Int(0, 100, 0),
          },
          { additionalProperties: false },
        ),
        response: { ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { type = 'firewall', interval_seconds = 2, max_seconds = 300, tail = 0 } = request.query;
      const live = await liveFor(request, request.params.id, 'firewall.view_logs', 'read.logs');
      if (streams.size >= MAX_LOG_STREAMS) {
        throw new ApiError('PC_ERR_RATE_LIMITED', `At most ${MAX_LOG_STREAMS} log streams may be open.`, {
          retryAfter: interval_seconds,
        });
      }
      const window = 200;
      // The first read happens before the stream opens, so a device failure is an ordinary 502 answer.
      const initial = (await live.logs(type, window)).items.map((item) => item.line);
      const closed = new AbortController();
      streams.add(closed);
      reply.hijack();
      const raw = reply.raw;
      raw.on('close', () => closed.abort());
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      const send = (event: LogStreamEvent) => {
        if (raw.writableEnded) return;
        if (event.type === 'idle') {
          raw.write(': idle\n\n'); // an SSE comment: keeps proxies from closing a quiet stream
          return;
        }
        const { type: name, ...data } = event;
        raw.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      raw.write(`: ${type} log of gateway ${request.params.id}\nretry: ${interval_seconds * 1_000}\n\n`);
      for (const line of tail > 0 ? initial.slice(-tail) : []) send({ type: 'line', line });
      try {
        await followLog(
          live,
          initial,
          {
            kind: type,
            window,
            intervalMs: interval_seconds * 1_000,
            maxDurationMs: max_seconds * 1_000,
            signal: closed.signal,
          },
          send,
        );
      } catch (err) {
        request.log.error({ err }, 'log stream failed');
        send({ type: 'error', code: 'PC_ERR_INTERNAL', message: 'Internal server error.' });
      } finally {
        streams.delete(closed);
        if (!raw.writableEnded) raw.end();
      }
    },
  );
};
