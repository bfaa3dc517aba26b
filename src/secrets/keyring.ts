/**
 * @module The secrets keyring: AES-256-GCM envelopes bound to where they are stored.
 *
 * Ciphertext format: `v1.<kid>.<base64url(iv[12] | ciphertext | tag[16])>`. The AAD is the storage location
 * `table:rowId:column` (see `aadFor`), so a ciphertext copied into another row or column fails to open.
 * New seals always use the active key; any key still in the ring opens old ciphertexts. See ADR 0003.
 *
 * Key sources, in order:
 * 1. `PORTCULLIS_SECRET_KEYS` — JSON `{"active":"<kid>","keys":{"<kid>":"<base64 of 32 bytes>", …}}`
 *    (the same shape as the key file). With it set the keyring is read-only: `rotate` refuses, since the
 *    operator owns the keys; add a key to the variable and mark it active instead.
 * 2. `<dataDir>/keys.json` — same shape, created with mode 0600 on first use.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { envValue } from '../config.ts';

export const KEY_FILE = 'keys.json';
export const SECRET_KEYS_ENV = 'PORTCULLIS_SECRET_KEYS' as const;

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export interface KeyringFile {
  active: string;
  keys: Record<string, string>;
}

/** Where a secret lives: the AAD a ciphertext is bound to. */
export function aadFor(table: string, rowId: string, column: string): string {
  return `${table}:${rowId}:${column}`;
}

/** A ciphertext that does not open (wrong key, wrong AAD, tampered, malformed). Never carries plaintext. */
export class SecretDecryptError extends Error {
  constructor(reason: string) {
    super(`Cannot decrypt secret: ${reason}`);
    this.name = 'SecretDecryptError';
  }
}

export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

function parseKeyringJson(text: string, source: string): KeyringFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyringError(`${source} is not valid JSON`);
  }
  const candidate = parsed as Partial<KeyringFile> | null;
  if (
    !candidate ||
    typeof candidate.active !== 'string' ||
    typeof candidate.keys !== 'object' ||
    !candidate.keys
  ) {
    throw new KeyringError(`${source} must be {"active": "<kid>", "keys": {"<kid>": "<base64 key>"}}`);
  }
  for (const [kid, key] of Object.entries(candidate.keys)) {
    if (!KID_PATTERN.test(kid))
      throw new KeyringError(`${source}: key id ${JSON.stringify(kid)} is not [A-Za-z0-9_-]{1,32}`);
    if (typeof key !== 'string' || Buffer.from(key, 'base64').length !== KEY_BYTES) {
      throw new KeyringError(`${source}: key ${kid} must be base64 of exactly ${KEY_BYTES} bytes`);
    }
  }
  if (!(candidate.active in candidate.keys)) {
    throw new KeyringError(`${source}: active key ${JSON.stringify(candidate.active)} is not in keys`);
  }
  return { active: candidate.active, keys: { ...candidate.keys } };
}

function newKid(existing: Record<string, string>): string {
  for (;;) {
    const kid = `k${randomBytes(4).toString('hex')}`;
    if (!(kid in existing)) return kid;
  }
}

export class Keyring {
  #active: string;
  readonly #keys: Map<string, Buffer>;
  /** The key file to persist rotations to; `null` for env-provided or in-memory keyrings. */
  readonly #file: string | null;

  private constructor(state: KeyringFile, file: string | null) {
    this.#active = state.active;
    this.#keys = new Map(Object.entries(state.keys).map(([kid, key]) => [kid, Buffer.from(key, 'base64')]));
    this.#file = file;
  }

  /** A keyring holding one fresh random key, kept only in memory (tests, throwaway stores). */
  static ephemeral(): Keyring {
    const kid = newKid({});
    return new Keyring({ active: kid, keys: { [kid]: randomBytes(KEY_BYTES).toString('base64') } }, null);
  }

  /** Parses the JSON key-file shape (as used by `PORTCULLIS_SECRET_KEYS`). */
  static fromJson(text: string, source = SECRET_KEYS_ENV): Keyring {
    return new Keyring(parseKeyringJson(text, source), null);
  }

  /**
   * The deployment's keyring: from `PORTCULLIS_SECRET_KEYS` when set, otherwise `<dataDir>/keys.json`,
   * created (mode 0600, one random key) when missing. An existing file readable by others is tightened to 0600.
   */
  static load(dataDir: string, env: NodeJS.ProcessEnv = process.env): Keyring {
    return Keyring.fromConfig(dataDir, envValue(SECRET_KEYS_ENV, env));
  }

  /** `load` with `PORTCULLIS_SECRET_KEYS` already parsed (the server passes its config's). */
  static fromConfig(dataDir: string, secretKeys: string | null): Keyring {
    if (secretKeys !== null) return Keyring.fromJson(secretKeys);
    const file = join(dataDir, KEY_FILE);
    if (!existsSync(file)) {
      const kid = newKid({});
      try {
        writeKeyFile(file, { active: kid, keys: { [kid]: randomBytes(KEY_BYTES).toString('base64') } }, 'wx');
      } catch (err) {
        // Another process created it first: use theirs.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    } else if ((statSync(file).mode & 0o077) !== 0) {
      chmodSync(file, 0o600);
    }
    return new Keyring(parseKeyringJson(readFileSync(file, 'utf8'), file), file);
  }

  get activeKid(): string {
    return this.#active;
  }

  get kids(): string[] {
    return [...this.#keys.keys()];
  }

  /** Whether `rotate()` can persist (false for keys supplied through the environment). */
  get writable(): boolean {
    return this.#file !== null;
  }

  seal(plaintext: string, aad: string): string {
    const key = this.#keys.get(this.#active);
    if (!key) throw new KeyringError('active key missing from keyring');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const payload = Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    return `${VERSION}.${this.#active}.${payload}`;
  }

  open(ciphertext: string, aad: string): string {
    const { kid, payload } = parseEnvelope(ciphertext);
    const key = this.#keys.get(kid);
    if (!key) throw new SecretDecryptError(`key ${kid} is not in the keyring`);
    const raw = Buffer.from(payload, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptError('ciphertext too short');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretDecryptError('authentication failed (wrong key, wrong location, or tampered)');
    }
  }

  /**
   * A MAC of `message` for `purpose` (HMAC-SHA256 under a key derived from the active key with HKDF, so a MAC
   * made for one purpose never verifies for another and no stored ciphertext is exposed): `<kid>.<base64url>`.
   */
  mac(purpose: string, message: string): string {
    return `${this.#active}.${this.#macWith(this.#active, purpose, message)}`;
  }

  /** Whether `tag` is `mac(purpose, message)` under any key still in the ring (constant-time compare). */
  verifyMac(purpose: string, message: string, tag: string): boolean {
    const dot = tag.indexOf('.');
    const kid = tag.slice(0, dot);
    if (dot < 1 || !this.#keys.has(kid)) return false;
    const given = Buffer.from(tag.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.#macWith(kid, purpose, message), 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #macWith(kid: string, purpose: string, message: string): string {
    const key = this.#keys.get(kid);
    if (!key) throw new KeyringError(`key ${kid} missing from keyring`);
    const derived = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `portcullis mac v1 ${purpose}`, 32));
    return createHmac('sha256', derived).update(message, 'utf8').digest('base64url');
  }

  /** Whether this ciphertext was sealed with a key other than the active one. */
  needsReencrypt(ciphertext: string): boolean {
    return parseEnvelope(ciphertext).kid !== this.#active;
  }

  /** Adds a new random key, makes it active and persists the key file. Returns the new key id. */
  rotate(): string {
    if (!this.#file) {
      throw new KeyringError(
        `This keyring is not file-backed (${SECRET_KEYS_ENV} or in-memory); add a key there and mark it active instead`,
      );
    }
    const state = this.#toFile();
    const kid = newKid(state.keys);
    state.keys[kid] = randomBytes(KEY_BYTES).toString('base64');
    state.active = kid;
    writeKeyFile(this.#file, state, 'w');
    this.#keys.set(kid, Buffer.from(state.keys[kid], 'base64'));
    this.#active = kid;
    return kid;
  }

  #toFile(): KeyringFile {
    return {
      active: this.#active,
      keys: Object.fromEntries([...this.#keys].map(([kid, key]) => [kid, key.toString('base64')])),
    };
  }
}

function parseEnvelope(ciphertext: string): { kid: string; payload: string } {
  const parts = ciphertext.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION || !parts[1] || !parts[2]) {
    throw new SecretDecryptError('not a v1 envelope');
  }
  return { kid: parts[1], payload: parts[2] };
}

/** Writes the key file with mode 0600; replacing goes through a temp file and rename so a crash never truncates it. */
function writeKeyFile(file: string, state: KeyringFile, flag: 'w' | 'wx'): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const text = `${JSON.stringify(state, null, 2)}\n`;
  if (flag === 'wx') {
    writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    return;
  }
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  renameSync(temp, file);
}
