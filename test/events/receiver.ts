/**
 * @module A real webhook receiver on 127.0.0.1 for tests: records each request (headers, body, whether its
 * signature verifies with the secret it is told), answers with the status a test scripts, or hangs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  json: Record<string, any>;
  signatureValid: boolean;
}

export interface Receiver {
  url: string;
  received: Received[];
  secret: string | null;
  /** Statuses for the next requests in order; then 200. `'hang'` never answers. */
  script: Array<number | 'hang'>;
  hanging: number;
  close(): Promise<void>;
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
}

export function verify(secret: string, headers: IncomingMessage['headers'], body: string): boolean {
  const timestamp = headers['x-portcullis-timestamp'];
  const signature = headers['x-portcullis-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export async function startReceiver(): Promise<Receiver> {
  const open = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: '',
    received: [],
    secret: null,
    script: [],
    hanging: 0,
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async waitFor(count, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (receiver.received.length < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${receiver.received.length} of ${count} requests`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return receiver.received;
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      receiver.received.push({
        headers: req.headers,
        body,
        json: JSON.parse(body) as Record<string, any>,
        signatureValid: receiver.secret !== null && verify(receiver.secret, req.headers, body),
      });
      const next = receiver.script.shift() ?? 200;
      if (next === 'hang') {
        receiver.hanging++;
        open.add(res);
        return;
      }
      res.writeHead(next).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}
