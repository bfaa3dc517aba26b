/**
 * @module Test helpers for the RouterOS emulator: a plain-http client with Basic auth.
 */
import type { RouterOsEmulator } from '../../src/emulators/routeros/index.ts';

export interface Reply {
  status: number;
  text: string;
  json: any;
  contentType: string | null;
}

export function client(emu: RouterOsEmulator, user = emu.credentials.username, password = emu.credentials.password) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
    const res = await fetch(`${emu.url}${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, contentType: res.headers.get('content-type') };
  };
}
