/** @module scrypt password hashing: self-describing hash strings, verification, malformed input. */
import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../src/errors.ts';
import {
  currentScryptParams,
  HashGate,
  hashPassword,
  PASSWORD_CHECKS,
  verifyAgainstDummy,
  verifyPassword,
} from '../../src/identity/password.ts';

const FAST = { logN: 14, r: 8, p: 1 };

describe('password hashing', () => {
  it('stores its parameters and a random salt in the hash string', async () => {
    const hash = await hashPassword('correct horse battery', FAST);
    expect(hash).toMatch(/^scrypt\$14\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await hashPassword('correct horse battery', FAST)).not.toBe(hash);
  });

  it('verifies the right password only', async () => {
    const hash = await hashPassword('correct horse battery', FAST);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('verifies with the parameters stored in the hash, not the current defaults', async () => {
    const hash = await hashPassword('pässwörd ünïcode', { logN: 15, r: 8, p: 1 });
    expect(await verifyPassword('pässwörd ünïcode', hash)).toBe(true);
    // NFC normalisation: the decomposed spelling of the same text verifies too.
    expect(await verifyPassword('pässwörd ünïcode'.normalize('NFD'), hash)).toBe(true);
  });

  it.each([
    { name: 'empty', hash: '' },
    { name: 'other scheme', hash: '$2b$10$abcdefghijklmnopqrstuv' },
    { name: 'absurd cost', hash: 'scrypt$40$8$1$AAAA$AAAA' },
    { name: 'missing parts', hash: 'scrypt$14$8$1$AAAA' },
    { name: 'short key', hash: 'scrypt$14$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA' },
  ])('returns false (never throws) for a $name hash', async ({ hash }) => {
    expect(await verifyPassword('anything', hash)).toBe(false);
  });

  it('reads the cost for new hashes from PORTCULLIS_SCRYPT_LOG_N (default OWASP N=2^17), refusing values outside 14–20', () => {
    expect(currentScryptParams({})).toEqual({ logN: 17, r: 8, p: 1 });
    expect(currentScryptParams({ PORTCULLIS_SCRYPT_LOG_N: '14' }).logN).toBe(14);
    expect(() => currentScryptParams({ PORTCULLIS_SCRYPT_LOG_N: '3' })).toThrow(
      'PORTCULLIS_SCRYPT_LOG_N: must be between 14 and 20',
    );
    expect(() => currentScryptParams({ PORTCULLIS_SCRYPT_LOG_N: 'x' })).toThrow(/PORTCULLIS_SCRYPT_LOG_N/);
  });

  it('the dummy check for unknown users always fails', async () => {
    expect(await verifyAgainstDummy('whatever')).toBe(false);
  });
});

describe('HashGate (bounded concurrent hashing)', () => {
  /** Work that finishes when the test says so, recording how many run at once. */
  function controlled() {
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const work = () =>
      new Promise<string>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        releases.push(() => {
          running--;
          resolve('done');
        });
      });
    return { work, releases, peak: () => peak };
  }
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('runs at most maxActive at once, queues maxWaiting, and refuses the rest at once with 429', async () => {
    const gate = new HashGate(2, 1);
    const c = controlled();
    const runs = [gate.run(c.work), gate.run(c.work), gate.run(c.work)];
    const refused = await gate.run(c.work).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).retryAfterSeconds).toBe(1);
    await tick();
    expect(c.releases).toHaveLength(2); // the third waits
    c.releases[0]?.();
    await tick();
    expect(c.releases).toHaveLength(3); // it got the freed slot
    for (const release of c.releases.slice(1)) release();
    expect(await Promise.all(runs)).toEqual(['done', 'done', 'done']);
    expect(c.peak()).toBe(2);
  });

  it('frees the slot when the work fails, so a failure never shrinks the gate', async () => {
    const gate = new HashGate(1, 0);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(async () => 'again')).resolves.toBe('again');
  });

  it('password verification goes through the process gate: a burst past it is refused, not queued forever', async () => {
    const hash = await hashPassword('burst password', FAST);
    const limit = PASSWORD_CHECKS.maxActive + PASSWORD_CHECKS.maxWaiting;
    const results = await Promise.allSettled(
      Array.from({ length: limit + 5 }, () => verifyPassword('burst password', hash)),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(5);
    expect(refused.every((r) => r.status === 'rejected' && r.reason instanceof RateLimitedError)).toBe(true);
    expect(results.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(limit);
  });
});
