/**
 * @module The machine client behind `portcullis knock`: one knock (`POST /api/v1/portal/knock` with an API
 * token), and the `--persist` loop that re-knocks before the shortest grant runs out, knocks again at once when
 * the address the server sees changes, and backs off on errors it can outlive (unreachable, 429, 5xx).
 *
 * The schedule is pure (`nextKnockDelayMs`, `backoffDelayMs`, `isRetryable`) so its rules are tested as tables;
 * the loop takes its transport, sleeper and clock from the caller so tests drive it against a real server.
 */
import { CliApiError } from './client.ts';

interface GrantedKnoc {
  knoc_id: string;
  knoc_name: string;
  grant_id: string;
  expires_at: string;
  seconds_left: number;
}

interface RefusedKnoc {
  knoc_id: string;
  knoc_name: string;
  reason: string;
}

export interface KnockResponse {
  /** The address the server saw (and granted). */
  ip: string;
  granted: GrantedKnoc[];
  refused: RefusedKnoc[];
}

/** How the client reaches the server; `ApiClient.request` in the CLI. */
export type Transport = <T>(method: string, path: string, body?: unknown) => Promise<T>;

interface SchedulePolicy {
  /** Re-knock after this fraction of the shortest remaining lifetime (2/3: a third of the grant is the margin). */
  renewFraction: number;
  /** Never knock more often than this, whatever the lifetimes. */
  minIntervalMs: number;
  /** First retry delay after a failure; doubles per consecutive failure up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** How often the loop asks the server which address it sees, between knocks (0 disables). */
  ipCheckIntervalMs: number;
  /** A request without an answer by then counts as a retryable failure (`PC_CLI_TIMEOUT`). */
  requestTimeoutMs: number;
}

export const DEFAULT_POLICY: SchedulePolicy = {
  renewFraction: 2 / 3,
  minIntervalMs: 1_000,
  baseBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  ipCheckIntervalMs: 30_000,
  requestTimeoutMs: 30_000,
};

/** `transport` whose calls fail with a retryable `PC_CLI_TIMEOUT` after `ms` (a hung server must not stall the loop). */
export function withTimeout(transport: Transport, ms: number): Transport {
  return <T>(method: string, path: string, body?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CliApiError(0, 'PC_CLI_TIMEOUT', `No answer from the server within ${ms / 1000} s.`)),
        ms,
      );
      transport<T>(method, path, body).then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
}

/** One knock; `knoc` limits it to the knoc of that name. */
export function knock(transport: Transport, knoc?: string): Promise<KnockResponse> {
  return transport<KnockResponse>('POST', '/api/v1/portal/knock', knoc === undefined ? {} : { knoc });
}

/**
 * The address the server sees for this client, from `GET /api/v1/portal/me`; `null` when the server does not
 * answer that for an API token (the loop then follows address changes only at each re-knock).
 */
async function seenAddress(transport: Transport): Promise<string | null> {
  try {
    const me = await transport<{ ip?: unknown }>('GET', '/api/v1/portal/me');
    return typeof me.ip === 'string' ? me.ip : null;
  } catch (err) {
    if (err instanceof CliApiError && !isRetryable(err)) return null;
    throw err;
  }
}

/**
 * When to knock again after a successful knock: `renewFraction` of the shortest `seconds_left` among the
 * grants, at least `minIntervalMs`. `null` when nothing was granted (the caller backs off instead).
 */
export function nextKnockDelayMs(response: KnockResponse, policy: SchedulePolicy = DEFAULT_POLICY): number | null {
  if (response.granted.length === 0) return null;
  const shortest = Math.min(...response.granted.map((g) => g.seconds_left));
  return Math.max(policy.minIntervalMs, Math.floor(shortest * 1_000 * policy.renewFraction));
}

/** Delay before retry number `failures` (1 = first failure): base × 2^(failures-1), capped. */
export function backoffDelayMs(failures: number, policy: SchedulePolicy = DEFAULT_POLICY): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  return Math.min(policy.maxBackoffMs, Math.max(policy.minIntervalMs, policy.baseBackoffMs * 2 ** exponent));
}

/**
 * Whether waiting can fix a failure: the server unreachable or silent (`PC_CLI_UNREACHABLE`, `PC_CLI_TIMEOUT`), 408, 429 or
 * 5xx. A bad token (401), a missing permission (403) or an unknown knoc (404) will not fix itself.
 */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof CliApiError)) return false;
  if (err.status === 0) return err.code === 'PC_CLI_UNREACHABLE' || err.code === 'PC_CLI_TIMEOUT';
  return err.status === 408 || err.status === 429 || err.status >= 500;
}

export type PersistEvent =
  | { kind: 'knocked'; response: KnockResponse; nextInMs: number }
  | { kind: 'refused'; response: KnockResponse; retryInMs: number }
  | { kind: 'failed'; error: CliApiError | Error; retryInMs: number }
  | { kind: 'ip-changed'; from: string; to: string };

interface PersistOptions {
  transport: Transport;
  knoc?: string;
  policy?: SchedulePolicy;
  signal: AbortSignal;
  onEvent: (event: PersistEvent) => void;
  /** Resolves after `ms` or as soon as `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Knocks until `signal` aborts. Resolves on abort; rejects with the error of a knock that waiting cannot fix
 * (bad token, unknown knoc), so the CLI can exit non-zero with its code.
 */
export async function persistKnocking(options: PersistOptions): Promise<void> {
  const policy = options.policy ?? DEFAULT_POLICY;
  const sleep = options.sleep ?? abortableSleep;
  const now = options.now ?? Date.now;
  const { signal, onEvent } = options;
  const transport = withTimeout(options.transport, policy.requestTimeoutMs);
  let failures = 0;
  let lastIp: string | null = null;
  let probeAddresses = policy.ipCheckIntervalMs > 0;

  while (!signal.aborted) {
    let waitMs: number;
    try {
      const response = await knock(transport, options.knoc);
      lastIp = response.ip;
      const next = nextKnockDelayMs(response, policy);
      if (next === null) {
        failures++;
        waitMs = backoffDelayMs(failures, policy);
        onEvent({ kind: 'refused', response, retryInMs: waitMs });
      } else {
        failures = 0;
        waitMs = next;
        onEvent({ kind: 'knocked', response, nextInMs: waitMs });
      }
    } catch (err) {
      if (!isRetryable(err)) throw err;
      failures++;
      waitMs = backoffDelayMs(failures, policy);
      onEvent({ kind: 'failed', error: err as CliApiError, retryInMs: waitMs });
    }

    // Wait for the next knock, asking between times whether the server now sees another address.
    const due = now() + waitMs;
    while (!signal.aborted && now() < due) {
      const slice = probeAddresses ? Math.min(policy.ipCheckIntervalMs, due - now()) : due - now();
      await sleep(slice, signal);
      if (signal.aborted || !probeAddresses || lastIp === null || now() >= due) continue;
      let seen: string | null;
      try {
        seen = await seenAddress(transport);
      } catch {
        continue; // unreachable right now: the scheduled knock will find out and back off
      }
      if (seen === null) {
        probeAddresses = false;
      } else if (seen !== lastIp) {
        onEvent({ kind: 'ip-changed', from: lastIp, to: seen });
        break;
      }
    }
  }
}
