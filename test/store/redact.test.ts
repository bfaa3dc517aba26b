/**
 * @module Redaction: the table of key decisions (what counts as secret, what is deliberately kept), deep copies,
 * and properties over arbitrary objects.
 */
import { fc, test as propertyTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isSecretKey, REDACTED, redact } from '../../src/secrets/redact.ts';

describe('isSecretKey', () => {
  it.each([
    // Secret in every spelling.
    ['password'],
    ['Password'],
    ['PASSWORD'],
    ['passwd'],
    ['new_password'],
    ['passphrase'],
    ['admin_pass'],
    ['secret'],
    ['client_secret'],
    ['api_secret'],
    ['apiSecret'],
    ['api_key'],
    ['apiKey'],
    ['API-KEY'],
    ['x-api-key'],
    ['Api Key'],
    ['token'],
    ['access_token'],
    ['refreshToken'],
    ['csrf_token'],
    ['private_key'],
    ['privateKey'],
    ['PRIVATE-KEY'],
    ['psk'],
    ['pre_shared_key'],
    ['preSharedKey'],
    ['wpa_psk'],
    ['key'],
    ['feed_key'],
    ['authKey'],
    ['keys'],
    ['key_material'],
    ['totp_secret'],
    ['totpSecretEnc'],
    ['otpauth_uri'],
    ['authorization'],
    ['Authorization'],
    ['cookie'],
    ['set-cookie'],
    ['session_id'],
    ['sessionId'],
    ['credentials'],
    ['password_hash'],
    ['signing_key'],
  ])('%s is secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each([
    // Describes a secret without holding it.
    ['token_count'],
    ['tokenCount'],
    ['totp_enabled'],
    ['password_changed_at'],
    ['passwordChangedAt'],
    ['token_expires_at'],
    ['api_key_id'],
    ['keyId'],
    ['token_name'],
    ['token_prefix'],
    ['has_credentials_configured'],
    ['password_policy'],
    ['public_key'],
    ['publicKey'],
    ['fingerprint'],
    // Ordinary fields.
    ['username'],
    ['host'],
    ['name'],
    ['description'],
    ['monkey'],
    ['keyboard_layout'],
    ['passthrough'],
    ['bypass'],
    ['id'],
    [''],
  ])('%s is kept', (key) => {
    expect(isSecretKey(key)).toBe(false);
  });
});

/** FreeSDN's strip-list (docs/reference/freesdn-firewall-module.md §27): every name is secret in every spelling. */
const FREESDN_SECRET_KEYS = [
  'password',
  'hashed_password',
  'secret',
  'api_key',
  'apikey',
  'api_secret',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'credential',
  'credentials',
  'setup_key',
  'cookie',
  'session_token',
  'encryption_key',
  'passphrase',
  'passwd',
  'private_key',
  'privkey',
  'priv_key',
  'ssh_key',
  'sshkeys',
  'psk',
  'pre_shared_key',
  'preshared_key',
  'tls_key',
  'tls_auth',
  'tls_crypt',
  'shared_key',
  'ca_key',
  'auth_key',
  'key_passphrase',
  'private_key_passphrase',
  'cert',
  'certificate',
  'ca',
  'ca_chain',
  'crl',
  'dh',
  'tls_certificate',
  'cipassword',
  'args',
  'hookscript',
  'auth_user_pass',
  'radius_secret',
  'snmp_community',
  'community',
  'auth_password',
  'authentication_password',
  'encryption_password',
  'mschapv2_password',
  'shared_secret',
  'ipsec_secret',
  'private_key_file',
  'auth_secret',
  'mfa_secret',
  'mfa_backup_codes',
  'otp_secret',
  'x_passphrase',
  'x_iapp_key',
  'x_xstauthkey',
  'x_xstcrypt',
  'x_password',
  'x_authkey',
  'x_ssh_password',
  'ssh_password',
  'x_vwirekey',
  'wpa_psk',
  'wireguard_private_key',
  'wireguard_psk',
  'ciuserdata',
  'cinetuserdata',
  'cibootcmd',
  'ciupgrade',
  'vncticket',
  'ticket',
  'csrf_prevention_token',
  'target_password',
  'acme_account_key',
  'registration_password',
  'bindpw',
  'bind_password',
  'bindpassword',
  'security_key',
  'securitykey',
  'presharedkey',
  'sip_secret',
  'client_key',
  'owner_password',
  'prescript',
  'postscript',
];

describe("isSecretKey covers FreeSDN's strip-list in every spelling", () => {
  const words = (key: string) => key.split('_');
  const spellings = (key: string): Array<[string, string]> => [
    ['snake_case', key],
    ['camelCase', words(key).map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('')],
    ['PascalCase', words(key).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')],
    ['kebab-case', words(key).join('-')],
    ['UPPER_CASE', key.toUpperCase()],
  ];

  it('lists the 92 names FreeSDN lists', () => {
    expect(new Set(FREESDN_SECRET_KEYS).size).toBe(92);
  });

  it.each(FREESDN_SECRET_KEYS.flatMap((key) => spellings(key).map(([style, spelled]) => [key, style, spelled])))(
    '%s as %s (%s) is secret',
    (_key, _style, spelled) => {
      expect(isSecretKey(spelled)).toBe(true);
    },
  );

  it.each([['public_key'], ['publicKey'], ['PUBLIC-KEY'], ['description'], ['cidr'], ['cache'], ['dhcp'], ['certificate_name'], ['ca_id']])(
    '%s stays visible (public or descriptive)',
    (key) => {
      expect(isSecretKey(key)).toBe(false);
    },
  );

  it('redacts a WireGuard peer row the way a live read sees it', () => {
    expect(
      redact({ public_key: 'pub=', preshared_key: 'psk=', privateKey: 'priv=', endpoint: '198.51.100.1:51820' }),
    ).toEqual({ public_key: 'pub=', preshared_key: REDACTED, privateKey: REDACTED, endpoint: '198.51.100.1:51820' });
  });
});

describe('redact', () => {
  it('deep-copies, redacting nested objects and arrays, keeping booleans and nulls', () => {
    const input = {
      name: 'fw1',
      has_credentials: true,
      api_key: 'abc123',
      password: null,
      totp_enabled: true,
      vpn: [{ peer: '198.51.100.1', psk: 'sharedsecret', enabled: true }],
      nested: { deeper: { privateKey: '-----BEGIN PRIVATE KEY-----', note: 'ok' } },
      secret: { structured: 'value' },
      created: new Date('2026-01-01T00:00:00Z'),
    };
    const output = redact(input);
    expect(output).toEqual({
      name: 'fw1',
      has_credentials: true,
      api_key: REDACTED,
      password: null,
      totp_enabled: true,
      vpn: [{ peer: '198.51.100.1', psk: REDACTED, enabled: true }],
      nested: { deeper: { privateKey: REDACTED, note: 'ok' } },
      secret: REDACTED,
      created: new Date('2026-01-01T00:00:00Z'),
    });
    expect(input.api_key).toBe('abc123'); // input untouched
    expect(output.nested).not.toBe(input.nested);
  });

  it.each([
    { name: 'a bearer header value', value: 'Bearer eyJhbGciOi.payload.sig' },
    { name: 'a basic header value', value: 'Basic dXNlcjpwYXNz' },
    { name: 'a Portcullis API token', value: 'pc_abcdefghijkl_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG' },
  ])('redacts $name under any key', ({ value }) => {
    expect(redact({ note: value, list: [value] })).toEqual({ note: REDACTED, list: [REDACTED] });
  });

  it('replaces a cycle with [circular] and returns strings, numbers and null unchanged', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(redact(cyclic)).toEqual({ name: 'a', self: '[circular]' });
    expect(redact('plain')).toBe('plain');
    expect(redact(42)).toBe(42);
    expect(redact(null)).toBeNull();
    expect(redact([1, { token: 't' }])).toEqual([1, { token: REDACTED }]);
  });

  it('redacts string keys of Maps', () => {
    expect(
      redact(
        new Map([
          ['apiKey', 'v'],
          ['host', 'h'],
        ]),
      ),
    ).toEqual(
      new Map([
        ['apiKey', REDACTED],
        ['host', 'h'],
      ]),
    );
  });
});

describe('redact properties', () => {
  const secretStem = fc.constantFrom(
    'password',
    'api key',
    'secret',
    'token',
    'private key',
    'psk',
    'pre shared key',
  );
  /** Spells a stem in camelCase, snake_case, kebab-case or upper case. */
  const spelled = fc
    .tuple(secretStem, fc.constantFrom('camel', 'snake', 'kebab', 'upper', 'pascal'))
    .map(([stem, style]) => {
      const words = stem.split(' ');
      switch (style) {
        case 'camel':
          return words.map((w, i) => (i === 0 ? w : w[0]?.toUpperCase() + w.slice(1))).join('');
        case 'pascal':
          return words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
        case 'snake':
          return words.join('_');
        case 'kebab':
          return words.join('-');
        default:
          return words.join('_').toUpperCase();
      }
    });
  const marker = fc.string({ minLength: 8, maxLength: 20 }).map((s) => `SECRET<${s}>`);
  const safeKey = fc.constantFrom('host', 'name', 'port', 'description', 'items', 'config', 'peer');

  /** Arbitrary nesting of objects and arrays with secret values placed under secret-looking keys. */
  const tree = fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.integer(),
      fc.dictionary(safeKey, tie('node'), { maxKeys: 4 }),
      fc.dictionary(spelled, marker, { minKeys: 1, maxKeys: 3 }),
      fc.array(tie('node'), { maxLength: 3 }),
    ),
  })).node;

  propertyTest.prop([tree])('no value stored under a secret key survives, whatever the nesting', (value) => {
    expect(JSON.stringify(redact(value))).not.toContain('SECRET<');
  });

  propertyTest.prop([tree])('is idempotent and never mutates its input', (value) => {
    const before = JSON.stringify(value);
    const once = redact(value);
    expect(JSON.stringify(value)).toBe(before);
    expect(redact(once)).toEqual(once);
  });

  propertyTest.prop([fc.dictionary(safeKey, fc.oneof(fc.string(), fc.integer(), fc.boolean()))])(
    'leaves objects without secrets equal to the input',
    (value) => {
      fc.pre(Object.values(value).every((v) => typeof v !== 'string' || !/^(bearer|basic)\s|^pc_/i.test(v)));
      expect(redact(value)).toEqual(value);
    },
  );
});
