/**
 * @module The emulator's test hooks under `/__emulator/` (no credentials, outside `/api/v2`): state dump,
 * request log, reset, faults, keys, live states, live views (status, logs, power) and REST API settings. Bad input gets a 400 naming the field.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveState } from './state.ts';
import { FAULT_KINDS, type FaultSpec, type PfRestEmulator } from './types.ts';

type HookReply = [status: number, value: unknown];

const OK: HookReply = [200, { ok: true }];

function route(key: string, input: () => Record<string, unknown>, api: PfRestEmulator): HookReply {
  switch (key) {
    case 'GET /__emulator/state': {
      // The JWT signing secret stays inside the process even on the lab's open hooks.
      const { jwtSecret: _secret, ...visible } = api.state();
      return [200, visible];
    }
    case 'GET /__emulator/requests':
      return [200, api.requests()];
    case 'DELETE /__emulator/requests':
      api.clearRequests();
      return OK;
    case 'POST /__emulator/reset':
      api.reset();
      return OK;
    case 'POST /__emulator/faults': {
      const fault = input() as unknown as FaultSpec;
      if (!FAULT_KINDS.includes(fault.kind))
        return [400, { error: `kind must be one of ${FAULT_KINDS.join(', ')}` }];
      api.injectFault(fault);
      return OK;
    }
    case 'DELETE /__emulator/faults':
      api.clearFaults();
      return OK;
    case 'POST /__emulator/keys': {
      const privileges = input().privileges;
      if (!Array.isArray(privileges) || !privileges.every((p) => typeof p === 'string')) {
        return [400, { error: 'privileges must be a list of strings' }];
      }
      return [200, { key: api.addKey(privileges) }];
    }
    case 'PATCH /__emulator/settings':
      api.updateSettings(input());
      return [200, api.state().settings];
    case 'PATCH /__emulator/live':
      api.setLive(input());
      return [200, api.state().live];
    case 'PUT /__emulator/states': {
      const states = input().states;
      if (!Array.isArray(states)) return [400, { error: 'states must be a list' }];
      api.setStates(states as LiveState[]);
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
  api: PfRestEmulator,
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
