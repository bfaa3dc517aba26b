/**
 * @module The OpenWrt emulator's test hooks under `/__emulator/` (no credentials, outside `/ubus`): state,
 * request log, faults, clock, reboot, firewall restart/reload, conntrack entries and syslog lines, so an
 * out-of-process test can drive it. Bad input gets a 400 naming the field.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Connection, FAULT_KINDS, type FaultSpec, type OpenWrtEmulator } from './types.ts';

type HookReply = [status: number, value: unknown];
const OK: HookReply = [200, { ok: true }];

function route(key: string, input: () => Record<string, unknown>, api: OpenWrtEmulator): HookReply {
  switch (key) {
    case 'GET /__emulator/state':
      return [200, api.state()];
    case 'GET /__emulator/requests':
      return [200, api.requests()];
    case 'DELETE /__emulator/requests':
      api.clearRequests();
      return OK;
    case 'POST /__emulator/faults': {
      const f = input() as unknown as FaultSpec;
      if (!FAULT_KINDS.includes(f.kind)) return [400, { error: `kind must be one of ${FAULT_KINDS.join(', ')}` }];
      api.fault(f);
      return OK;
    }
    case 'DELETE /__emulator/faults':
      api.clearFaults();
      return OK;
    case 'POST /__emulator/advance': {
      const ms = input().ms;
      if (typeof ms !== 'number' || !(ms >= 0)) return [400, { error: 'ms must be a non-negative number' }];
      api.advance(ms);
      return [200, { now: api.state().now }];
    }
    case 'POST /__emulator/reboot':
      api.reboot();
      return OK;
    case 'POST /__emulator/restart-firewall':
      api.restartFirewall();
      return OK;
    case 'POST /__emulator/reload-firewall':
      api.reloadFirewall();
      return OK;
    case 'POST /__emulator/connections': {
      const c = input() as unknown as Connection;
      if (typeof c.src !== 'string' || typeof c.dst !== 'string') return [400, { error: 'src and dst are required' }];
      if (!['tcp', 'udp', 'icmp'].includes(c.proto)) return [400, { error: 'proto must be tcp, udp or icmp' }];
      api.addConnection(c);
      return OK;
    }
    case 'POST /__emulator/log': {
      const m = input().message;
      if (typeof m !== 'string') return [400, { error: 'message must be a string' }];
      api.addLog(m);
      return OK;
    }
    default:
      return [404, { error: `no test hook ${key}` }];
  }
}

export function handleHook(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: string,
  api: OpenWrtEmulator,
): void {
  const input = (): Record<string, unknown> => (body.trim() === '' ? {} : (JSON.parse(body) as Record<string, unknown>));
  let reply: HookReply;
  try {
    reply = route(`${req.method} ${url.pathname.replace(/\/+$/, '')}`, input, api);
  } catch (err) {
    reply = [400, { error: (err as Error).message }];
  }
  res.writeHead(reply[0], { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(reply[1])}\n`);
}
