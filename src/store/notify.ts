/**
 * @module Messages between the nodes of one store (docs/scale-out.md, ADR 0221): PostgreSQL `LISTEN`/`NOTIFY`
 * on a dedicated connection, or an in-process dispatcher on PGlite (one process owns a PGlite store, so every
 * subscriber lives in it).
 *
 * A message is a small JSON object on a named channel. Delivery is at most once and only to nodes connected
 * when it is sent, so receivers treat it as a hint that something changed, never as the only copy of a fact:
 * the store stays the truth and every periodic run re-reads it. A dropped listening connection is re-opened
 * with a short backoff; `onReconnect` handlers run after it so callers can re-read what they may have missed.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';

export type ChannelHandler = (payload: Record<string, unknown>) => void;

export interface StoreChannel {
  /**
   * Sends `payload` to every subscriber of `channel` on every node, this one included. With `echo`, resolves only
   * once this node's own listening connection has received it back (at most `ECHO_WAIT_MS`): PostgreSQL signals
   * every listener at the same commit, so by then the other nodes have it on their sockets too.
   */
  publish(channel: string, payload: Record<string, unknown>, options?: { echo?: boolean }): Promise<void>;
  /** Subscribes; returns the unsubscribe function. Resolves once the node is listening. */
  subscribe(channel: string, handler: ChannelHandler): Promise<() => void>;
  /** Called after the listening connection was lost and re-opened (messages in between are lost). */
  onReconnect(handler: () => void): void;
  close(): Promise<void>;
}

/** PostgreSQL's limit on a NOTIFY payload is 8000 bytes; we refuse well before it. */
const MAX_PAYLOAD_BYTES = 7_000;
const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** The longest a publisher waits for its own message to come back (a lost echo never blocks a request long). */
const ECHO_WAIT_MS = 1_000;
/** The field carrying the id of a message its sender waits for. */
const ECHO_FIELD = 'echo_id';

function encode(channel: string, payload: Record<string, unknown>): string {
  if (!CHANNEL_NAME.test(channel)) throw new Error(`invalid channel name ${channel}`);
  const text = JSON.stringify(payload);
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) throw new Error(`message on ${channel} is too large`);
  return text;
}

function decode(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** PGlite: the store lives in this process, so a message only has to reach this process's subscribers. */
export function inProcessChannel(): StoreChannel {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(channel, payload) {
      const text = encode(channel, payload);
      // Delivered on a later tick, like NOTIFY after commit: the sender never runs a handler inside its own call.
      setImmediate(() => {
        const message = decode(text);
        if (message) emitter.emit(channel, message);
      });
    },
    async subscribe(channel, handler) {
      encode(channel, {});
      emitter.on(channel, handler);
      return () => emitter.off(channel, handler);
    },
    onReconnect() {},
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/** PostgreSQL: NOTIFY through the pool, LISTEN on one dedicated client per process. */
export function postgresChannel(url: string, pool: pg.Pool): StoreChannel {
  const handlers = new Map<string, Set<ChannelHandler>>();
  const reconnectHandlers: Array<() => void> = [];
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const connect = (): Promise<pg.Client> => {
    connecting ??= (async () => {
      const next = new pg.Client({ connectionString: url });
      next.on('notification', (message) => {
        const payload = message.payload === undefined ? null : decode(message.payload);
        if (payload === null) return;
        for (const handler of handlers.get(message.channel) ?? []) handler(payload);
        echoed(message.channel, payload);
      });
      next.on('error', () => lost(next));
      next.on('end', () => lost(next));
      await next.connect();
      for (const channel of handlers.keys()) await next.query(`listen ${channel}`);
      client = next;
      return next;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  };

  const lost = (which: pg.Client): void => {
    if (client !== which || closed) return;
    client = null;
    which.end().catch(() => {});
    const retry = (delay: number): void => {
      retryTimer = setTimeout(() => {
        if (closed) return;
        connect().then(
          () => {
            for (const handler of reconnectHandlers) handler();
          },
          () => retry(Math.min(delay * 2, 5_000)),
        );
      }, delay);
      retryTimer.unref();
    };
    retry(100);
  };

  const echoes = new Map<string, () => void>();
  const echoed = (channel: string, payload: Record<string, unknown>): void => {
    const id = payload[ECHO_FIELD];
    if (typeof id === 'string') echoes.get(`${channel}:${id}`)?.();
  };
  const api: StoreChannel = {
    async publish(channel, payload, options) {
      if (!options?.echo) {
        await pool.query('select pg_notify($1, $2)', [channel, encode(channel, payload)]);
        return;
      }
      const id = randomUUID();
      const key = `${channel}:${id}`;
      // Listening on the channel first, so the echo cannot arrive before anyone waits for it.
      const stop = await api.subscribe(channel, () => {});
      let timer: NodeJS.Timeout | undefined;
      const back = new Promise<void>((resolve) => {
        echoes.set(key, resolve);
        timer = setTimeout(resolve, ECHO_WAIT_MS);
        timer.unref();
      });
      try {
        await pool.query('select pg_notify($1, $2)', [channel, encode(channel, { ...payload, [ECHO_FIELD]: id })]);
        await back;
      } finally {
        clearTimeout(timer);
        echoes.delete(key);
        stop();
      }
    },
    async subscribe(channel, handler) {
      encode(channel, {});
      let set = handlers.get(channel);
      const fresh = set === undefined;
      if (set === undefined) {
        set = new Set();
        handlers.set(channel, set);
      }
      set.add(handler);
      const listening = client ?? (await connect());
      if (fresh && listening === client) await listening.query(`listen ${channel}`);
      return () => {
        set.delete(handler);
      };
    },
    onReconnect(handler) {
      reconnectHandlers.push(handler);
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      const open = client;
      client = null;
      handlers.clear();
      await open?.end().catch(() => {});
    },
  };
  return api;
}
