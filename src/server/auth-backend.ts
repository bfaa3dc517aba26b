/**
 * @module Resolves credentials to a principal with the identity services: API tokens
 * (`authenticateApiToken`, rights already narrowed to the token's list) and session cookies
 * (`validateSession` + `resolvePermissions`, with the CSRF header checked against the session).
 *
 * Resolved principals are cached for a few seconds (ADR 0013), keyed by a hash of the credential:
 * - an entry never outlives its credential's own expiry;
 * - every successful change made through this process that can alter authentication or rights (sign-out,
 *   revocation, user, group, role or site change…) empties the cache, so on a single node a revoked credential
 *   fails on the very next request; other writes (grants, knocs…) keep it (ADR 0096);
 * - other nodes of a cluster empty theirs at once too: the change is announced on the store's channel
 *   `portcullis_auth` and the response waits until every live node answers that its cache is empty (at most
 *   1 s; docs/scale-out.md, ADR 0223), so a credential revoked through one node fails on every node's next request.
 */
import { createHash, randomUUID } from 'node:crypto';
import { AuthenticationError } from '../errors.ts';
import { EffectivePermissions, resolvePermissions } from '../identity/effective.ts';
import { validateSession, verifyCsrf } from '../identity/sessions.ts';
import { authenticateApiToken } from '../identity/tokens.ts';
import type { Store } from '../store/index.ts';
import type { AuthBackend, Principal } from './plugins/access.ts';

/** `null` for the "credential not valid" answers; anything else (store down) propagates as a 5xx. */
async function unlessInvalid<T>(work: () => Promise<T>): Promise<T | null> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AuthenticationError) return null;
    throw err;
  }
}

interface Entry<T> {
  value: T;
  /** Milliseconds since epoch after which the entry must be re-validated. */
  freshUntil: number;
}

/** A bounded map with per-entry deadlines; the oldest entry goes first when full. */
export class PrincipalCache<T> {
  readonly #entries = new Map<string, Entry<T>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  static key(credential: string): string {
    return createHash('sha256').update(credential).digest('base64url');
  }

  get(key: string, now = Date.now()): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.freshUntil <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, credentialExpiresAt: Date | null, now = Date.now()): void {
    if (this.ttlMs <= 0) return;
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    const expires = credentialExpiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
    this.#entries.set(key, { value, freshUntil: Math.min(now + this.ttlMs, expires) });
  }

  clear(): void {
    this.#entries.clear();
  }
}

interface SessionHit {
  principal: Principal;
  csrfHash: string;
}

/** The channel that tells every node to forget its cached principals. */
export const AUTH_CHANNEL = 'portcullis_auth';
/** Each node answers an announcement here once its cache is empty. */
const AUTH_ACK_CHANNEL = 'portcullis_auth_ack';
/** The longest a change waits for every live node's answer (a node that died but still looks alive costs this). */
const ACK_WAIT_MS = 1_000;

interface CachingAuthBackend extends AuthBackend {
  /** Forget every cached principal here and on every other node (after a change to authentication or rights). */
  invalidate(): Promise<void>;
  /** Empties this node's caches when another node announces a change; resolves once listening. */
  listen(): Promise<() => void>;
}

/**
 * The nodes heard from within two thirds of a lease (src/cluster/node.ts heartbeats), at least this one: how many
 * answers a change waits for.
 */
async function liveNodes(store: Store, leaseMs: number): Promise<number> {
  try {
    const [row] = await store.query<{ alive: number }>(
      `select count(*)::int as alive from cluster_nodes where heartbeat_at > now() - $1::int * interval '1 millisecond'`,
      [Math.floor((leaseMs * 2) / 3)],
    );
    return Math.max(1, row?.alive ?? 1);
  } catch {
    return 1;
  }
}

export function createAuthBackend(store: Store, cacheTtlMs: number, leaseMs: number): CachingAuthBackend {
  const tokens = new PrincipalCache<Principal>(cacheTtlMs);
  const sessions = new PrincipalCache<SessionHit>(cacheTtlMs);
  const clear = () => {
    tokens.clear();
    sessions.clear();
  };
  const listenerId = randomUUID();
  /** Announcements this node made and still waits on: who answered, how many it needs. */
  const waiting = new Map<string, { answered: Set<string>; need: number; done: () => void }>();
  return {
    async invalidate() {
      clear();
      if (cacheTtlMs <= 0) return;
      // A NOTIFY reaching a node's socket is not yet a cleared cache there: wait until every live node says it
      // emptied its own (ADR 0223), so a credential revoked here fails on any node's very next request.
      const nonce = randomUUID();
      const need = await liveNodes(store, leaseMs);
      await new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          waiting.delete(nonce);
          resolve();
        };
        const timer = setTimeout(finish, ACK_WAIT_MS);
        waiting.set(nonce, { answered: new Set(), need, done: finish });
        store.channel.publish(AUTH_CHANNEL, { nonce }).catch(finish);
      });
    },
    async listen() {
      const stopAnswers = await store.channel.subscribe(AUTH_ACK_CHANNEL, (payload) => {
        const wait = waiting.get(String(payload.nonce));
        if (wait === undefined) return;
        wait.answered.add(String(payload.listener));
        if (wait.answered.size >= wait.need) wait.done();
      });
      const stop = await store.channel.subscribe(AUTH_CHANNEL, (payload) => {
        clear();
        if (typeof payload.nonce !== 'string') return;
        store.channel.publish(AUTH_ACK_CHANNEL, { nonce: payload.nonce, listener: listenerId }).catch(() => undefined);
      });
      // A lost connection may have lost an announcement: forget everything rather than trust the cache.
      store.channel.onReconnect(clear);
      return () => {
        stop();
        stopAnswers();
      };
    },
    async fromToken(presented) {
      const key = PrincipalCache.key(presented);
      const cached = tokens.get(key);
      if (cached) return cached;
      return unlessInvalid(async () => {
        const { token, user, permissions } = await authenticateApiToken(store.db, presented);
        const principal: Principal = {
          kind: 'token',
          userId: user.id,
          orgId: user.orgId,
          username: user.username,
          credentialId: token.id,
          tokenName: token.name,
          tokenPermissions: token.permissions,
          permissions,
        };
        tokens.set(key, principal, token.expiresAt);
        return principal;
      });
    },
    async fromSession(cookie, csrfHeader) {
      const key = PrincipalCache.key(cookie);
      let hit = sessions.get(key);
      if (!hit) {
        const resolved = await unlessInvalid(async () => {
          const session = await validateSession(store.db, cookie);
          // A portal single sign-on session holds grants, never management rights (docs/sso.md).
          const permissions =
            session.audience === 'portal'
              ? EffectivePermissions.none()
              : await resolvePermissions(store.db, session.orgId, session.userId);
          const principal: Principal = {
            kind: 'session',
            userId: session.userId,
            orgId: session.orgId,
            username: session.username,
            credentialId: session.id,
            permissions,
          };
          const value = { principal, csrfHash: session.csrfHash };
          sessions.set(key, value, session.expiresAt);
          return value;
        });
        if (!resolved) return null;
        hit = resolved;
      }
      return { principal: hit.principal, csrfValid: verifyCsrf({ csrfHash: hit.csrfHash }, csrfHeader) };
    },
  };
}
