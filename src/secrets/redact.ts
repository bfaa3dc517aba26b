/**
 * @module Redaction of secret-looking values before anything is logged, audited or returned from a live read.
 *
 * `redact(value)` deep-copies plain objects and arrays, replacing with `"[redacted]"` the value of every key
 * that looks secret, in any spelling (`apiKey`, `api_key`, `API-KEY`, `Api Key` …), plus string values that are
 * credentials whatever their key (`Bearer …`, `Basic …`, Portcullis API tokens `pc_…`). The policy prefers
 * safety: a key is secret when its words contain a secret stem (see `SECRET_STEMS`, `SECRET_LAST_WORDS`) unless
 * its last word says it only describes the secret (`token_count`, `totp_enabled`, `password_changed_at`,
 * `api_key_id`, `token_name`, `public_key`). Booleans are never redacted: they cannot carry a secret.
 * Every key of FreeSDN's strip-list (about 90, docs/reference/freesdn-firewall-module.md §27) is secret in every
 * spelling too: most fall under the stems, the rest are listed in `LISTED_SECRET_KEYS`.
 * Documented in docs/security.md; the table of decisions lives in test/store/redact.test.ts.
 */

export const REDACTED = '[redacted]';

/** Substrings of the joined lower-case key (separators removed) that mark a secret. */
const SECRET_STEMS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'privatekey',
  'presharedkey',
  'psk',
  'authorization',
  'cookie',
  'credential',
  'keymaterial',
  'sessionid',
  'totp',
  'otpauth',
  'signingkey',
  'encryptionkey',
  'clientsecret',
];

/** Last words that make a key secret on their own: `feed_key`, `keys`, `totp_secret_enc`, `admin_pass`, `pwd`. */
const SECRET_LAST_WORDS = new Set(['key', 'keys', 'enc', 'pass', 'pwd']);

/** Last words of keys that describe a secret without holding it. */
const DESCRIPTIVE_LAST_WORDS = new Set([
  'count',
  'enabled',
  'disabled',
  'required',
  'configured',
  'present',
  'set',
  'at',
  'expires',
  'expiry',
  'ttl',
  'length',
  'type',
  'id',
  'ids',
  'kid',
  'name',
  'prefix',
  'version',
  'policy',
  'hint',
]);

/** Keys that are secret even though their last word is descriptive (a session id *is* the credential). */
const ALWAYS_SECRET = new Set(['sessionid', 'sessid', 'sid', 'setcookie', 'cookie']);

/**
 * FreeSDN's strip-list entries (docs/reference/freesdn-firewall-module.md §27) that no stem or last word catches,
 * in joined form: certificate material, VPN/TLS keys, provisioning blobs, SNMP communities, tickets.
 */
const LISTED_SECRET_KEYS = new Set([
  'privkey',
  'sshkeys',
  'tlsauth',
  'tlscrypt',
  'cert',
  'certificate',
  'ca',
  'cachain',
  'crl',
  'dh',
  'tlscertificate',
  'args',
  'hookscript',
  'snmpcommunity',
  'community',
  'mfabackupcodes',
  'xxstauthkey',
  'xxstcrypt',
  'xauthkey',
  'xvwirekey',
  'ciuserdata',
  'cinetuserdata',
  'cibootcmd',
  'ciupgrade',
  'vncticket',
  'ticket',
  'bindpw',
  'securitykey',
  'prescript',
  'postscript',
]);

/** Keys whose joined form is a public value despite a secret-looking word. */
const PUBLIC_KEYS = new Set(['publickey', 'pubkey', 'hostkeyfingerprint', 'fingerprint']);

const CREDENTIAL_VALUE = /^(?:bearer|basic)\s+\S+|^pc_[a-z0-9]+_[a-z0-9_-]{16,}$/i;

/** Splits `apiKey`, `api_key`, `API-KEY`, `x.api key` into lower-case words. */
function wordsOf(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
}

/** Whether the value stored under `key` must be redacted. */
export function isSecretKey(key: string): boolean {
  const words = wordsOf(key);
  const joined = words.join('');
  if (joined === '') return false;
  if (ALWAYS_SECRET.has(joined) || LISTED_SECRET_KEYS.has(joined)) return true;
  if (PUBLIC_KEYS.has(joined)) return false;
  const last = words[words.length - 1] as string;
  if (words.length > 1 && DESCRIPTIVE_LAST_WORDS.has(last)) return false;
  return SECRET_LAST_WORDS.has(last) || SECRET_STEMS.some((stem) => joined.includes(stem));
}

/** Deep copy of `value` with secrets replaced by `"[redacted]"`. Never mutates its input; cycles become `"[circular]"`. */
export function redact<T>(value: T): T {
  return redactValue(value, new WeakSet()) as T;
}

/**
 * Replaces credential-looking strings anywhere in `value`, keeping every key: for documents whose keys are ours
 * (a change preview: `newly_pass` is not a password) but whose strings come from a device or a user.
 */
export function redactValues<T>(value: T): T {
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return CREDENTIAL_VALUE.test(item) ? REDACTED : item;
    if (Array.isArray(item)) return item.map(walk);
    if (item === null || typeof item !== 'object') return item;
    return Object.fromEntries(Object.entries(item).map(([key, inner]) => [key, walk(inner)]));
  };
  return walk(value) as T;
}

function redactValue(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return CREDENTIAL_VALUE.test(value) ? REDACTED : value;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redactValue(item, seen));
    if (value instanceof Map) {
      return new Map([...value].map(([k, v]) => [k, typeof k === 'string' ? redactEntry(k, v, seen) : v]));
    }
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = redactEntry(key, item, seen);
    return copy;
  } finally {
    seen.delete(value);
  }
}

function redactEntry(key: string, item: unknown, seen: WeakSet<object>): unknown {
  if (typeof item === 'boolean' || item === null || item === undefined) return item;
  return isSecretKey(key) ? REDACTED : redactValue(item, seen);
}
