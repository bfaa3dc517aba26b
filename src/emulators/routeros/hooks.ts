/**
 * @module Test hooks under `/__emulator/` (no credentials, outside `/rest`, not counted as device requests):
 * state, request log, concurrency, clock, reboot, faults, connections, log lines, users, dynamic rules.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FAULT_KINDS, type FaultSpec, type NewConnection, type NewLogLine, type RosUser, type RouterOsEmulator } from './types.ts';

type HookReply = [status: number, value: unknown];
const OK: HookReply = [200, { ok: true }];

function route(key: string, input: () => Record<string, unknown>, api: RouterOsEmulator): HookReply {
  switch (key) {
    case 'GET /__emulator/state':
      return [200, api.state()];
    case 'GET /__emulator/requests':
      return [200, api.requests()];
    case 'DELETE /__emulator/requests':
      api.clearRequests();
      return OK;
    case 'GET /__emulator/max-in-flight':
      return [200, { maxInFlight: api.maxInFlight() }];
    case 'DELETE /__emulator/max-in-flight':
      api.resetMaxInFlight();
      return OK;
    case 'POST /__emulator/advance': {
      const ms = input().ms;
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return [400, { error: 'ms must be a non-negative number' }];
      api.advance(ms);
      return OK;
    }
    case 'POST /__emulator/reboot':
      api.reboot();
      return OK;
    case 'POST /__emulator/faults': {
      const fault = input() as unknown as FaultSpec;
      if (!FAULT_KINDS.includes(fault.kind)) return [400, { error: `kind must be one of ${FAULT_KINDS.join(', ')}` }];
      api.fault(fault);
      return OK;
    }
    case 'DELETE /__emulator/faults':
      api.clearFaults();
      return OK;
    case 'POST /__emulator/connections': {
      const conn = input() as unknown as NewConnection;
      if (typeof conn.srcAddress !== 'string') return [400, { error: 'srcAddress must be a string' }];
      return [200, { id: api.addConnection(conn) }];
    }
    case 'POST /__emulator/log': {
      const line = input() as unknown as NewLogLine;
      if (typeof line.message !== 'string' && typeof line.firewall !== 'object')
        return [400, { error: 'message must be a string, or firewall a packet' }];
      return [200, { id: api.addLog(line) }];
    }
    case 'POST /__emulator/users': {
      const user = input() as unknown as RosUser;
      if (typeof user.name !== 'string' || typeof user.password !== 'string')
        return [400, { error: 'name and password must be strings' }];
      api.addUser(user);
      return OK;
    }
    case 'POST /__emulator/dynamic-rules': {
      const { menu, values } = input() as { menu?: unknown; values?: unknown };
      if (typeof menu !== 'string' || typeof values !== 'object' || values === null)
        return [400, { error: 'menu must be a string and values an object' }];
      return [200, { id: api.addDynamicRule(menu, values as Record<string, string>) }];
    }
    case 'POST /__emulator/counters': {
      const { menu, id, values } = input() as { menu?: unknown; id?: unknown; values?: unknown };
      if (typeof menu !== 'string' || typeof id !== 'string' || typeof values !== 'object' || values === null)
        return [400, { error: 'menu and id must be strings and values an object' }];
      api.setCounters(menu, id, values as Record<string, string>);
      return OK;
    }
    default:
      return [404, { error: `no test hook ${key}` }];
  }
}

export function handleHook(req: IncomingMessage, res: ServerResponse, path: string, body: string, api: RouterOsEmulator): void {
  const input = (): Record<string, unknown> => (body.trim() === '' ? {} : (JSON.parse(body) as Record<string, unknown>));
  let reply: HookReply;
  try {
    reply = route(`${req.method} ${path.replace(/\/+$/, '')}`, input, api);
  } catch (err) {
    reply = [400, { error: (err as Error).message }];
  }
  res.writeHead(reply[0], { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(reply[1])}\n`);
}
