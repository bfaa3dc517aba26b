/**
 * @module The knock client's schedule as truth tables: when to re-knock, how long to back off, which failures
 * are worth retrying. The loop itself runs against a real server in test/e2e/knock-cli.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  DEFAULT_POLICY,
  isRetryable,
  type KnockResponse,
  nextKnockDelayMs,
  type Transport,
  withTimeout,
} from '../../src/cli/knock-client.ts';
import { CliApiError } from '../../src/cli/client.ts';

const granted = (...secondsLeft: number[]): KnockResponse => ({
  ip: '192.0.2.7',
  granted: secondsLeft.map((s, i) => ({
    knoc_id: `k${i}`,
    knoc_name: `knoc${i}`,
    grant_id: `g${i}`,
    expires_at: new Date(Date.now() + s * 1000).toISOString(),
    seconds_left: s,
  })),
  refused: [],
});

describe('nextKnockDelayMs', () => {
  it.each([
    { row: 'one grant of an hour → at 40 min', left: [3600], expected: 2_400_000 },
    { row: 'the shortest of several grants decides', left: [3600, 90, 600], expected: 60_000 },
    { row: '3 s grant → at 2 s', left: [3], expected: 2_000 },
    { row: 'never below the minimum interval', left: [1], expected: DEFAULT_POLICY.minIntervalMs },
    { row: 'an already expired grant → minimum interval', left: [0], expected: DEFAULT_POLICY.minIntervalMs },
  ])('$row', ({ left, expected }) => {
    expect(nextKnockDelayMs(granted(...left))).toBe(expected);
  });

  it('nothing granted → no schedule (the caller backs off)', () => {
    expect(nextKnockDelayMs({ ip: '192.0.2.7', granted: [], refused: [] })).toBeNull();
  });

  it('honours a custom fraction and minimum', () => {
    expect(nextKnockDelayMs(granted(100), { ...DEFAULT_POLICY, renewFraction: 0.5, minIntervalMs: 10 })).toBe(
      50_000,
    );
  });
});

describe('backoffDelayMs', () => {
  it.each([
    { failures: 1, expected: 1_000 },
    { failures: 2, expected: 2_000 },
    { failures: 3, expected: 4_000 },
    { failures: 6, expected: 32_000 },
    { failures: 7, expected: 60_000 },
    { failures: 1_000, expected: 60_000 },
  ])('failure $failures → $expected ms', ({ failures, expected }) => {
    expect(backoffDelayMs(failures)).toBe(expected);
  });
});

describe('withTimeout', () => {
  it('turns a call that never answers into a retryable PC_CLI_TIMEOUT', async () => {
    const silent: Transport = () => new Promise(() => {});
    const err = await withTimeout(silent, 20)('POST', '/api/v1/portal/knock').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PC_CLI_TIMEOUT', status: 0 });
    expect(isRetryable(err)).toBe(true);
  });

  it('passes answers and errors through unchanged', async () => {
    const answer: Transport = async <T>() => ({ ok: 1 }) as T;
    await expect(withTimeout(answer, 1_000)('GET', '/x')).resolves.toEqual({ ok: 1 });
    const refusing: Transport = async () => {
      throw new CliApiError(401, 'PC_ERR_AUTH', 'no');
    };
    await expect(withTimeout(refusing, 1_000)('GET', '/x')).rejects.toMatchObject({ status: 401 });
  });
});

describe('isRetryable', () => {
  it.each([
    { row: 'server unreachable', err: new CliApiError(0, 'PC_CLI_UNREACHABLE', 'x'), retry: true },
    { row: 'server silent past the timeout', err: new CliApiError(0, 'PC_CLI_TIMEOUT', 'x'), retry: true },
    { row: 'no token configured', err: new CliApiError(0, 'PC_CLI_NO_TOKEN', 'x'), retry: false },
    { row: '401 bad token', err: new CliApiError(401, 'AUTH_REQUIRED', 'x'), retry: false },
    { row: '403 missing permission', err: new CliApiError(403, 'FORBIDDEN', 'x'), retry: false },
    { row: '404 unknown knoc', err: new CliApiError(404, 'NOT_FOUND', 'x', 'knoc'), retry: false },
    { row: '400 bad input', err: new CliApiError(400, 'VALIDATION', 'x'), retry: false },
    { row: '408 request timeout', err: new CliApiError(408, 'HTTP_408', 'x'), retry: true },
    { row: '429 rate limited', err: new CliApiError(429, 'RATE_LIMITED', 'x'), retry: true },
    { row: '500', err: new CliApiError(500, 'INTERNAL', 'x'), retry: true },
    { row: '503', err: new CliApiError(503, 'UNAVAILABLE', 'x'), retry: true },
    { row: 'a non-API error (bad JSON)', err: new SyntaxError('Unexpected token'), retry: false },
  ])('$row → $retry', ({ err, retry }) => {
    expect(isRetryable(err)).toBe(retry);
  });
});
