/**
 * @module Test helpers for the OpenWrt emulator: a JSON-RPC client over undici that trusts exactly the
 * emulator's certificate, login, and ubus call shorthands.
 */
import { Agent, request } from 'undici';
import type { OpenWrtEmulator } from '../../src/emulators/openwrt/index.ts';

export const NULL_SID = '00000000000000000000000000000000';

const agents = new Map<string, Agent>();
function agentFor(emu: OpenWrtEmulator): Agent | undefined {
  if (!emu.caPem) return undefined;
  let a = agents.get(emu.caPem);
  if (!a) {
    a = new Agent({ connect: { ca: emu.caPem } });
    agents.set(emu.caPem, a);
  }
  return a;
}

export async function post(
  emu: OpenWrtEmulator,
  body: string,
  path = '/ubus',
): Promise<{ status: number; text: string; json: unknown; headers: Record<string, unknown> }> {
  const dispatcher = agentFor(emu);
  const res = await request(`${emu.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    ...(dispatcher ? { dispatcher } : {}),
  });
  const text = await res.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.statusCode, text, json, headers: res.headers };
}

export interface RpcReply {
  jsonrpc: string;
  id: unknown;
  result?: [number, Record<string, unknown>?];
  error?: { code: number; message: string };
}

let nextId = 1;

export async function call(
  emu: OpenWrtEmulator,
  sid: string,
  object: string,
  method: string,
  args: Record<string, unknown> = {},
): Promise<RpcReply> {
  const r = await post(
    emu,
    JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'call', params: [sid, object, method, args] }),
  );
  return r.json as RpcReply;
}

export async function login(emu: OpenWrtEmulator, username?: string, password?: string): Promise<string> {
  const user = username ? emu.users.find((u) => u.username === username) : emu.users[0];
  const r = await call(emu, NULL_SID, 'session', 'login', {
    username: username ?? user?.username,
    password: password ?? user?.password,
  });
  const sid = r.result?.[1]?.ubus_rpc_session;
  if (typeof sid !== 'string') throw new Error(`login failed: ${JSON.stringify(r)}`);
  return sid;
}

export async function exec(
  emu: OpenWrtEmulator,
  sid: string,
  command: string,
  params: string[],
): Promise<RpcReply> {
  return call(emu, sid, 'file', 'exec', { command, params });
}
