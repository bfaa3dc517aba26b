/** @module TOTP and base32 against the RFC test vectors (RFC 6238 App. B, RFC 4226 App. D, RFC 4648 §10). */
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode } from '../../src/identity/base32.ts';
import { hotp, otpauthUri, totpCode, totpStep, verifyTotp } from '../../src/identity/totp.ts';

const SEED_SHA1 = Buffer.from('12345678901234567890');
const SEED_SHA256 = Buffer.from('12345678901234567890123456789012');
const SEED_SHA512 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234');

// RFC 6238 Appendix B: 8-digit TOTP values, T0 = 0, X = 30.
const RFC6238 = [
  { time: 59, sha1: '94287082', sha256: '46119246', sha512: '90693936' },
  { time: 1111111109, sha1: '07081804', sha256: '68084774', sha512: '25091201' },
  { time: 1111111111, sha1: '14050471', sha256: '67062674', sha512: '99943326' },
  { time: 1234567890, sha1: '89005924', sha256: '91819424', sha512: '93441116' },
  { time: 2000000000, sha1: '69279037', sha256: '90698825', sha512: '38618901' },
  { time: 20000000000, sha1: '65353130', sha256: '77737706', sha512: '47863826' },
];

describe('RFC 6238 Appendix B', () => {
  it.each(RFC6238)(
    't=$time → SHA1 $sha1, SHA256 $sha256, SHA512 $sha512',
    ({ time, sha1, sha256, sha512 }) => {
      const step = totpStep(new Date(time * 1000));
      expect(hotp(SEED_SHA1, step, 8, 'sha1')).toBe(sha1);
      expect(hotp(SEED_SHA256, step, 8, 'sha256')).toBe(sha256);
      expect(hotp(SEED_SHA512, step, 8, 'sha512')).toBe(sha512);
    },
  );

  it('6-digit codes are the last six digits of the SHA1 vectors (what authenticator apps show)', () => {
    const secret = base32Encode(SEED_SHA1);
    for (const { time, sha1 } of RFC6238) expect(totpCode(secret, new Date(time * 1000))).toBe(sha1.slice(2));
  });
});

describe('RFC 4226 Appendix D (HOTP)', () => {
  const expected = [
    '755224',
    '287082',
    '359152',
    '969429',
    '338314',
    '254676',
    '287922',
    '162583',
    '399871',
    '520489',
  ];
  it.each(expected.map((code, counter) => ({ counter, code })))(
    'counter $counter → $code',
    ({ counter, code }) => {
      expect(hotp(SEED_SHA1, counter)).toBe(code);
    },
  );
});

describe('verifyTotp', () => {
  const secret = base32Encode(SEED_SHA1);
  const now = new Date(1111111111 * 1000);
  const step = totpStep(now);
  const codeAt = (offsetSteps: number) => hotp(SEED_SHA1, step + offsetSteps);

  it.each([
    { name: 'current step', offset: 0, accepted: true },
    { name: 'previous step (clock skew)', offset: -1, accepted: true },
    { name: 'next step (clock skew)', offset: 1, accepted: true },
    { name: 'two steps old', offset: -2, accepted: false },
    { name: 'two steps ahead', offset: 2, accepted: false },
  ])('$name: accepted=$accepted', ({ offset, accepted }) => {
    expect(verifyTotp(secret, codeAt(offset), now, null)).toBe(accepted ? step + offset : null);
  });

  it('refuses a replay of the last used step and anything older', () => {
    expect(verifyTotp(secret, codeAt(0), now, step)).toBeNull();
    expect(verifyTotp(secret, codeAt(-1), now, step - 1)).toBeNull();
    expect(verifyTotp(secret, codeAt(1), now, step)).toBe(step + 1);
  });

  it.each(['', '12345', '1234567', 'abcdef', ' 123456'])('refuses malformed code %j', (code) => {
    expect(verifyTotp(secret, code, now, null)).toBeNull();
  });
});

describe('base32 (RFC 4648 §10)', () => {
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('%j ↔ %j', (plain, encoded) => {
    expect(base32Encode(Buffer.from(plain))).toBe(encoded);
    expect(base32Decode(encoded).toString()).toBe(plain);
  });

  it('decodes padded, lower-case and spaced input, and rejects foreign characters', () => {
    expect(base32Decode('mzxw 6ytb oi======').toString()).toBe('foobar');
    expect(() => base32Decode('MZXW1')).toThrow(RangeError);
  });
});

describe('otpauth URI', () => {
  it('follows the Key Uri Format with issuer prefix and parameters', () => {
    const uri = otpauthUri('JBSWY3DPEHPK3PXP', 'alice@example.com', 'Portcullis');
    expect(uri).toBe(
      'otpauth://totp/Portcullis:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Portcullis&algorithm=SHA1&digits=6&period=30',
    );
  });
});
