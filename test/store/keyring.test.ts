/** @module Keyring: envelope format, AAD binding, tamper detection, rotation, key file and env sources. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test as propertyTest } from '@fast-check/vitest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aadFor, KEY_FILE, Keyring, KeyringError, SecretDecryptError } from '../../src/secrets/keyring.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-keyring-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const AAD = aadFor('gateways', '7f8c2d4e-0000-4000-8000-000000000001', 'api_key_enc');

describe('envelope', () => {
  it('seals to v1.<kid>.<base64url(iv|ct|tag)> and opens back', () => {
    const ring = Keyring.ephemeral();
    const sealed = ring.seal('s3cret value', AAD);
    expect(sealed).toMatch(new RegExp(`^v1\\.${ring.activeKid}\\.[A-Za-z0-9_-]+$`));
    const raw = Buffer.from(sealed.split('.')[2] as string, 'base64url');
    expect(raw.length).toBe(12 + Buffer.byteLength('s3cret value') + 16);
    expect(ring.open(sealed, AAD)).toBe('s3cret value');
    expect(ring.seal('s3cret value', AAD)).not.toBe(sealed); // fresh IV every time
  });

  it.each([
    { name: 'another row', aad: aadFor('gateways', '7f8c2d4e-0000-4000-8000-000000000002', 'api_key_enc') },
    { name: 'another column', aad: aadFor('gateways', '7f8c2d4e-0000-4000-8000-000000000001', 'secret_enc') },
    { name: 'another table', aad: aadFor('users', '7f8c2d4e-0000-4000-8000-000000000001', 'api_key_enc') },
  ])('refuses to open a ciphertext moved to $name', ({ aad }) => {
    const ring = Keyring.ephemeral();
    expect(() => ring.open(ring.seal('x', AAD), aad)).toThrow(SecretDecryptError);
  });

  it.each([
    { name: 'a flipped payload byte', tamper: (p: Buffer) => p.map((b, i) => (i === 14 ? b ^ 1 : b)) },
    {
      name: 'a flipped tag byte',
      tamper: (p: Buffer) => p.map((b, i) => (i === p.length - 1 ? b ^ 0x80 : b)),
    },
    { name: 'a flipped IV byte', tamper: (p: Buffer) => p.map((b, i) => (i === 0 ? b ^ 1 : b)) },
    { name: 'truncation', tamper: (p: Buffer) => p.subarray(0, 20) },
  ])('detects $name', ({ tamper }) => {
    const ring = Keyring.ephemeral();
    const [v, kid, payload] = ring.seal('attack at dawn', AAD).split('.') as [string, string, string];
    const forged = `${v}.${kid}.${Buffer.from(tamper(Buffer.from(payload, 'base64url'))).toString('base64url')}`;
    expect(() => ring.open(forged, AAD)).toThrow(SecretDecryptError);
  });

  it.each(['', 'plaintext', 'v2.k1.AAAA', 'v1..AAAA', 'v1.k1'])('rejects malformed envelope %j', (text) => {
    expect(() => Keyring.ephemeral().open(text, AAD)).toThrow(SecretDecryptError);
  });

  it('refuses a ciphertext from a key it does not hold, naming the key id only', () => {
    const sealed = Keyring.ephemeral().seal('secret-value', AAD);
    const other = Keyring.ephemeral();
    expect(() => other.open(sealed, AAD)).toThrow(/key k[0-9a-f]{8} is not in the keyring/);
    try {
      other.open(sealed, AAD);
    } catch (err) {
      expect((err as Error).message).not.toContain('secret-value');
    }
  });

  propertyTest.prop([fc.string({ unit: 'binary' }), fc.string(), fc.string()])(
    'round-trips any text; a different AAD never opens it',
    (plaintext, aad, otherAad) => {
      const ring = Keyring.ephemeral();
      const sealed = ring.seal(plaintext, aad);
      expect(ring.open(sealed, aad)).toBe(Buffer.from(plaintext, 'utf8').toString('utf8'));
      if (otherAad !== aad) expect(() => ring.open(sealed, otherAad)).toThrow(SecretDecryptError);
    },
  );
});

describe('key file', () => {
  it('is created with mode 0600 holding one 256-bit key, and reloads the same keys', () => {
    const ring = Keyring.load(dir, {});
    const file = join(dir, KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const content = JSON.parse(readFileSync(file, 'utf8'));
    expect(content.active).toBe(ring.activeKid);
    expect(Buffer.from(content.keys[ring.activeKid], 'base64')).toHaveLength(32);
    const sealed = ring.seal('persisted', AAD);
    expect(Keyring.load(dir, {}).open(sealed, AAD)).toBe('persisted');
  });

  it('tightens an existing key file readable by others to 0600', () => {
    Keyring.load(dir, {});
    chmodSync(join(dir, KEY_FILE), 0o644);
    Keyring.load(dir, {});
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it('rotates: new seals use the new key, old ciphertexts still open, and the file keeps both (0600)', () => {
    const ring = Keyring.load(dir, {});
    const old = ring.seal('before rotation', AAD);
    const oldKid = ring.activeKid;
    const newKid = ring.rotate();
    expect(newKid).not.toBe(oldKid);
    expect(ring.seal('after', AAD).startsWith(`v1.${newKid}.`)).toBe(true);
    expect(ring.open(old, AAD)).toBe('before rotation');
    expect(ring.needsReencrypt(old)).toBe(true);
    const reloaded = Keyring.load(dir, {});
    expect(reloaded.activeKid).toBe(newKid);
    expect(reloaded.kids.sort()).toEqual([oldKid, newKid].sort());
    expect(reloaded.open(old, AAD)).toBe('before rotation');
    expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it.each([
    { name: 'not JSON', text: '{', error: /not valid JSON/ },
    { name: 'missing keys', text: '{"active":"a"}', error: /must be \{"active"/ },
    {
      name: 'active not in keys',
      text: `{"active":"b","keys":{"a":"${Buffer.alloc(32).toString('base64')}"}}`,
      error: /active key "b"/,
    },
    {
      name: 'short key',
      text: `{"active":"a","keys":{"a":"${Buffer.alloc(16).toString('base64')}"}}`,
      error: /exactly 32 bytes/,
    },
    {
      name: 'bad key id',
      text: `{"active":"a b","keys":{"a b":"${Buffer.alloc(32).toString('base64')}"}}`,
      error: /key id/,
    },
  ])('rejects a key file that is $name', ({ text, error }) => {
    writeFileSync(join(dir, KEY_FILE), text, { mode: 0o600 });
    expect(() => Keyring.load(dir, {})).toThrow(error);
  });
});

describe('PORTCULLIS_SECRET_KEYS', () => {
  const keys = {
    active: 'prod2',
    keys: { prod1: Buffer.alloc(32, 1).toString('base64'), prod2: Buffer.alloc(32, 2).toString('base64') },
  };

  it('takes precedence over the key file and is read-only', () => {
    const ring = Keyring.load(dir, { PORTCULLIS_SECRET_KEYS: JSON.stringify(keys) });
    expect(ring.activeKid).toBe('prod2');
    expect(ring.writable).toBe(false);
    expect(() => ring.rotate()).toThrow(KeyringError);
    expect(() => statSync(join(dir, KEY_FILE))).toThrow(); // no key file written
  });

  it('opens what an older active key sealed', () => {
    const old = Keyring.fromJson(JSON.stringify({ ...keys, active: 'prod1' })).seal('legacy', AAD);
    expect(Keyring.load(dir, { PORTCULLIS_SECRET_KEYS: JSON.stringify(keys) }).open(old, AAD)).toBe('legacy');
  });

  it('names the variable, never a key, when malformed', () => {
    expect(() => Keyring.load(dir, { PORTCULLIS_SECRET_KEYS: '{"active":"x","keys":{}}' })).toThrow(
      /^PORTCULLIS_SECRET_KEYS: active key "x" is not in keys$/,
    );
  });
});

describe('mac', () => {
  const ring = () =>
    Keyring.fromJson(
      JSON.stringify({ active: 'k2', keys: { k1: Buffer.alloc(32, 1).toString('base64'), k2: Buffer.alloc(32, 2).toString('base64') } }),
    );
  const onlyK1 = () =>
    Keyring.fromJson(JSON.stringify({ active: 'k1', keys: { k1: Buffer.alloc(32, 1).toString('base64') } }));

  it('verifies its own tag for the same purpose and message only', () => {
    const tag = ring().mac('purpose-a', 'message');
    expect(tag).toMatch(/^k2\.[A-Za-z0-9_-]{43}$/);
    expect(ring().verifyMac('purpose-a', 'message', tag)).toBe(true);
    expect(ring().verifyMac('purpose-b', 'message', tag)).toBe(false);
    expect(ring().verifyMac('purpose-a', 'messagE', tag)).toBe(false);
    const flipped = `k2.${tag[3] === 'A' ? 'B' : 'A'}${tag.slice(4)}`;
    expect(ring().verifyMac('purpose-a', 'message', flipped)).toBe(false);
    expect(ring().verifyMac('purpose-a', 'message', 'nokey')).toBe(false);
    expect(ring().verifyMac('purpose-a', 'message', 'k9.abc')).toBe(false);
  });

  it('verifies tags of an older key still in the ring, and not once the key is gone', () => {
    const old = onlyK1().mac('p', 'm');
    expect(ring().verifyMac('p', 'm', old)).toBe(true);
    expect(onlyK1().verifyMac('p', 'm', ring().mac('p', 'm'))).toBe(false);
  });
});
