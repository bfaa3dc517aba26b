/**
 * @module A tiny stand-in for RouterOS REST used before (and besides) the emulator: plain HTTP, Basic auth, tables
 * keyed by menu with `*HEX` ids, exact-match query filters, and replies shaped as the upstream quotes in
 * `test/routeros/upstream/` show. It is test scaffolding, not an emulator: it records the highest number of requests
 * it had in flight at once, and `hook` lets a test answer a request itself.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Row = Record<string, string>;

export interface FakeRouter {
  url: string;
  tables: Map<string, Row[]>;
  requests: Array<{ method: string; path: string; body: unknown }>;
  maxInFlight(): number;
  /** Answers a request instead of the tables when it returns true. */
  hook: ((req: { method: string; path: string; body: unknown }, res: ServerResponse) => boolean) | null;
  latencyMs: number;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
};

export async function startFakeRouter(opts: { user?: string; password?: string } = {}): Promise<FakeRouter> {
  const auth = `Basic ${Buffer.from(`${opts.user ?? 'admin'}:${opts.password ?? 'secret'}`).toString('base64')}`;
  let seq = 0x100;
  let inFlight = 0;
  let max = 0;
  const fake: FakeRouter = {
    url: '',
    tables: new Map(),
    requests: [],
    maxInFlight: () => max,
    hook: null,
    latencyMs: 0,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const table = (menu: string) => {
    let rows = fake.tables.get(menu);
    if (!rows) {
      rows = [];
      fake.tables.set(menu, rows);
    }
    return rows;
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const body: unknown = text === '' ? undefined : JSON.parse(text);
    const method = req.method ?? 'GET';
    fake.requests.push({ method, path: url.pathname + url.search, body });
    if (fake.latencyMs > 0) await new Promise((r) => setTimeout(r, fake.latencyMs));
    if (fake.hook?.({ method, path: url.pathname + url.search, body }, res)) return;
    if (!url.pathname.startsWith('/rest/')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>WebFig</body></html>');
      return;
    }
    if (req.headers.authorization !== auth) return json(res, 401, { error: 401, message: 'Unauthorized' });
    const parts = url.pathname.slice('/rest/'.length).split('/');
    const last = parts[parts.length - 1] ?? '';
    if (last.startsWith('*')) {
      const menu = parts.slice(0, -1).join('/');
      const rows = table(menu);
      const at = rows.findIndex((r) => r['.id'] === last);
      if (at < 0) return json(res, 404, { error: 404, message: 'Not Found' });
      const row = rows[at] as Row;
      if (method === 'GET') return json(res, 200, row);
      if (method === 'DELETE') {
        rows.splice(at, 1);
        res.writeHead(204);
        res.end();
        return;
      }
      if (method === 'PATCH') {
        if ('place-before' in (body as object))
          return json(res, 400, { detail: 'unknown parameter place-before', error: 400, message: 'Bad Request' });
        for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
          if (v === '') delete row[k];
          else row[k] = String(v);
        }
        return json(res, 200, row);
      }
    }
    const menu = parts.join('/');
    if (menu === 'system/resource') return json(res, 200, table(menu)[0] ?? {});
    const rows = table(menu);
    if (method === 'GET') {
      const filters = [...url.searchParams].filter(([k]) => !k.startsWith('.'));
      return json(res, 200, rows.filter((r) => filters.every(([k, v]) => r[k] === v)));
    }
    if (method === 'PUT') {
      const b = body as Record<string, string>;
      if (menu.endsWith('address-list') && rows.some((r) => r.list === b.list && r.address === b.address && r.disabled !== 'true'))
        return json(res, 400, { detail: 'failure: already have such entry', error: 400, message: 'Bad Request' });
      const row: Row = { '.id': `*${(++seq).toString(16).toUpperCase()}`, disabled: 'false', dynamic: 'false' };
      for (const [k, v] of Object.entries(b)) if (k !== 'place-before') row[k] = String(v);
      if (row.timeout !== undefined) row.dynamic = 'true';
      const before = b['place-before'] === undefined ? -1 : rows.findIndex((r) => r['.id'] === b['place-before']);
      if (before >= 0) rows.splice(before, 0, row);
      else rows.push(row);
      return json(res, 201, row);
    }
    return json(res, 400, { detail: `no such command or directory (${last})`, error: 400, message: 'Bad Request' });
  };
  const server = createServer((req, res) => {
    inFlight++;
    max = Math.max(max, inFlight);
    res.on('close', () => {
      inFlight--;
    });
    handle(req, res).catch((err: unknown) => json(res, 500, { error: 500, message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.tables.set('system/resource', [{ version: '7.16.2 (stable)', uptime: '1h2m3s', 'board-name': 'CHR' }]);
  return fake;
}
