/**
 * @module Password hashing with scrypt (node:crypto). The hash string carries its parameters —
 * `scrypt$<logN>$<r>$<p>$<salt b64url>$<key b64url>` — so the cost can rise later without breaking old hashes.
 *
 * Default cost follows OWASP's scrypt minimum (N = 2^17, r = 8, p = 1). `PORTCULLIS_SCRYPT_LOG_N` (14–20)
 * lowers or raises N for new hashes, e.g. to 14 in the test suite (a value outside 14–20 stops the server at
 * start); verification always uses the stored ones.
 *
 * Verifications (the part a stranger can trigger) pass a `HashGate`: a few hash at once, a few more wait, and
 * the rest are refused at once with `RateLimitedError`, so a burst can neither pin every CPU nor exhaust memory
 * (each scrypt at the default cost takes 128 MiB).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { envValue } from '../config.ts';
import { RateLimitedError } from '../errors.ts';

interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

const KEY_BYTES = 32;
const SALT_BYTES = 16;
export const MAX_PASSWORD_LENGTH = 1024;

export function currentScryptParams(env: NodeJS.ProcessEnv = process.env): ScryptParams {
  return { logN: envValue('PORTCULLIS_SCRYPT_LOG_N', env), r: 8, p: 1 };
}

function derive(password: string, salt: Buffer, { logN, r, p }: ScryptParams): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_BYTES,
      { N, r, p, maxmem: 256 * N * r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export async function hashPassword(
  password: string,
  params: ScryptParams = currentScryptParams(),
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return [
    'scrypt',
    params.logN,
    params.r,
    params.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

function parseHash(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [logN, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![logN, r, p].every(Number.isInteger) || logN < 10 || logN > 22 || r < 1 || r > 32 || p < 1 || p > 16) {
    return null;
  }
  return {
    params: { logN, r, p },
    salt: Buffer.from(parts[4] as string, 'base64url'),
    key: Buffer.from(parts[5] as string, 'base64url'),
  };
}

/** Bounds concurrent work: `maxActive` run at once, `maxWaiting` queue, any more are refused at once. */
export class HashGate {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly maxActive: number,
    readonly maxWaiting: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#active >= this.maxActive) {
      if (this.#waiting.length >= this.maxWaiting) {
        throw new RateLimitedError('The server is busy checking other sign-ins; retry in a moment', 1);
      }
      // The releasing run hands its slot over directly, so `#active` stays counted for us.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

/** Password verifications of this process: two hash at once (each holds a libuv worker), eight may wait. */
export const PASSWORD_CHECKS = new HashGate(2, 8);

/**
 * Constant-time check of `password` against a stored hash; `false` (never a throw) for a malformed hash.
 * Throws `RateLimitedError` when too many checks are already running or waiting.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed || parsed.key.length !== KEY_BYTES) return false;
  const candidate = await PASSWORD_CHECKS.run(() => derive(password, parsed.salt, parsed.params));
  return timingSafeEqual(candidate, parsed.key);
}

let dummyHash: Promise<string> | null = null;

/**
 * Burns the same time as a real verification, for sign-ins naming an unknown user, so response timing does
 * not tell "no such user" from "wrong password". Always resolves `false`.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummyHash);
  return false;
}
