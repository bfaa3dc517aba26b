/** @module scrypt password hashing: self-describing hash strings, verification, malformed input. */
import { describe, expect, it } from 'vitest';
import {
  currentScryptParams,
  hashPassword,
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
