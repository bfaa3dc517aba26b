/**
 * @module Test hooks under `/__emulator/` (no credentials, outside `/api`), so an out-of-process test can drive
 * the emulator: state, request log, clock, reboot, faults, states, keys, firewall log and IDS alerts.
 * Bad input gets a 400 naming the field.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PfState } from './state.ts';
import { FAULT_KINDS, type FaultSpec, type OpnKeySpec, type OpnsenseEmulator } from './types.ts';

type HookReply = [status: number, value: unknown];
const OK: HookReply = [200, { ok: true }];

function rows(input: Record<string, unknown>, field: string): Array<Record<string, unknown>> {
  const v = input[field];
  if (!Array.isArray(v) || !v.every((x) => x !== null && typeof x === 'object')) {
    throw new Error(`${field} must be a list of objects`);
  }
  return v as Array<Record<string, unknown>>;
}

function route(key: string, input: () => Record<string, unknown>, api: OpnsenseEmulator): HookReply {
  switch (key) {
    case 'GET /__emulator/state': {
      const { keys, ...visible } = api.state();
      return [200, { ...visible, keys: keys.map(({ secret: _s, ...k }) => k) }];
    }
    case 'GET /__emulator/requests':
      return [200, api.requests()];
    case 'DELETE /__emulator/requests':
      api.clearRequests();
      return OK;
    case 'GET /__emulator/now':
      return [200, { now: api.now() }];
    case 'POST /__emulator/advance': {
      const ms = input().ms;
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return [400, { error: 'ms must be a non-negative number' }];
      api.advance(ms);
      return [200, { now: api.now() }];
    }
    case 'POST /__emulator/reboot':
      api.reboot();
      return OK;
    case 'POST /__emulator/restart-firewall':
      api.restartFirewall();
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
    case 'PUT /__emulator/states': {
      const states = rows(input(), 'states');
      if (!states.every((s) => typeof s.src_addr === 'string' && typeof s.dst_addr === 'string')) {
        return [400, { error: 'states: every state needs src_addr and dst_addr' }];
      }
      api.setStates(states as unknown as Array<Partial<PfState> & { src_addr: string; dst_addr: string }>);
      return OK;
    }
    case 'POST /__emulator/keys': {
      const spec = input() as unknown as OpnKeySpec;
      if (typeof spec.key !== 'string' || typeof spec.secret !== 'string') {
        return [400, { error: 'key and secret must be strings' }];
      }
      api.addKey(spec);
      return OK;
    }
    case 'POST /__emulator/log':
      api.addLog(rows(input(), 'rows'));
      return OK;
    case 'POST /__emulator/alerts':
      api.addAlerts(rows(input(), 'rows'));
      return OK;
    default:
      return [404, { error: `no test hook ${key}` }];
  }
}

export function handleHook(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: string,
  api: OpnsenseEmulator,
): void {
  const input = (): Record<string, unknown> =>
    body.trim() === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
  let reply: HookReply;
  try {
    reply = route(`${req.method} ${url.pathname.replace(/\/+$/, '')}`, input, api);
  } catch (err) {
    reply = [400, { error: (err as Error).message }];
  }
  res.writeHead(reply[0], { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(reply[1])}\n`);
}
