/**
 * @module The vendor-neutral HTTP core's pure parts: error classification by code (the network faults
 * themselves are exercised over loopback in errors.test.ts; DNS failures cannot be produced there without
 * leaving the machine), fingerprint normalisation and secret redaction.
 */
import { describe, expect, it } from 'vitest';
import {
  classifyTransportError,
  FINGERPRINT_MISMATCH,
  normalizeFingerprint,
  redact,
} from '../../src/adapters/http.ts';

const errorWith = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('classifyTransportError', () => {
  it.each([
    ['refused', 'ECONNREFUSED', 'connect'],
    ['DNS name not found', 'ENOTFOUND', 'connect'],
    ['DNS temporary failure', 'EAI_AGAIN', 'connect'],
    ['host unreachable', 'EHOSTUNREACH', 'connect'],
    ['network unreachable', 'ENETUNREACH', 'connect'],
    ['reset', 'ECONNRESET', 'connect'],
    ['other side closed', 'UND_ERR_SOCKET', 'connect'],
    ['connect timeout', 'UND_ERR_CONNECT_TIMEOUT', 'timeout'],
    ['headers timeout', 'UND_ERR_HEADERS_TIMEOUT', 'timeout'],
    ['body timeout', 'UND_ERR_BODY_TIMEOUT', 'timeout'],
    ['OS connect timeout', 'ETIMEDOUT', 'timeout'],
    ['self-signed', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
    ['expired', 'CERT_HAS_EXPIRED', 'tls'],
    ['name mismatch', 'ERR_TLS_CERT_ALTNAME_INVALID', 'tls'],
    ['plain HTTP on the port', 'ERR_SSL_WRONG_VERSION_NUMBER', 'tls'],
    ['pinned fingerprint mismatch', FINGERPRINT_MISMATCH, 'tls'],
  ])('%s (%s) → %s', (_label, code, kind) => {
    const classified = classifyTransportError(errorWith(code));
    expect(classified.kind).toBe(kind);
    expect(classified.detail).toContain(code);
  });

  it('reads the code of a wrapped cause', () => {
    expect(
      classifyTransportError(new TypeError('fetch failed', { cause: errorWith('ENOTFOUND') })).kind,
    ).toBe('connect');
  });
});

describe('normalizeFingerprint', () => {
  const hex = 'ab'.repeat(32);
  it.each([
    ['colon upper-case', `${'AB:'.repeat(31)}AB`],
    ['plain hex', hex],
    ['sha256/ prefix with spaces', `sha256/${'AB '.repeat(32)}`],
  ])('accepts %s', (_label, input) => {
    expect(normalizeFingerprint(input)).toBe(hex);
  });

  it.each([
    ['too short', 'AB:CD'],
    ['SHA-1 length', 'ab'.repeat(20)],
    ['not hex', 'zz'.repeat(32)],
  ])('rejects %s', (_label, input) => {
    expect(() => normalizeFingerprint(input)).toThrow(/SHA-256/);
  });
});

describe('redact', () => {
  it('removes every occurrence of each secret and ignores tiny ones', () => {
    expect(redact('key=s3cr3t-value and again s3cr3t-value', ['s3cr3t-value', 'x'])).toBe(
      'key=[redacted] and again [redacted]',
    );
  });
});
