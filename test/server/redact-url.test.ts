/**
 * @module The request log's URL redaction (src/server/plugins/observability.ts): a secret-bearing query value
 * is replaced whatever spelling of its name the query parser decodes to it (security finding 6: `?%6bey=`).
 */
import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/server/plugins/observability.ts';

describe('redactUrl', () => {
  it.each([
    ['/edl/t.txt?key=s3cret', '/edl/t.txt?key=[redacted]'],
    ['/edl/t.txt?%6bey=s3cret', '/edl/t.txt?%6bey=[redacted]'],
    ['/edl/t.txt?%6B%65%79=s3cret', '/edl/t.txt?%6B%65%79=[redacted]'],
    ['/edl/t.txt?KEY=s3cret', '/edl/t.txt?KEY=[redacted]'],
    ['/x?a=1&api%5fkey=s3cret&b=2', '/x?a=1&api%5fkey=[redacted]&b=2'],
    ['/x?token=s3cret#frag', '/x?token=[redacted]#frag'],
    ['/x?key=a&key=b', '/x?key=[redacted]&key=[redacted]'],
    ['/x?ke%y=s3cret', '/x?ke%y=s3cret'],
    // Single sign-on: what a provider sends back through the URL.
    ['/api/v1/auth/oidc/i/callback?code=c0de&state=s', '/api/v1/auth/oidc/i/callback?code=[redacted]&state=s'],
    ['/api/v1/auth/saml/i/slo?SAMLRequest=x&SigAlg=a&Signature=y', '/api/v1/auth/saml/i/slo?SAMLRequest=[redacted]&SigAlg=a&Signature=[redacted]'],
  ])('%s → %s', (url, want) => {
    expect(redactUrl(url)).toBe(want);
  });

  it('leaves other parameters and URLs without a query alone', () => {
    expect(redactUrl('/api/v1/users?search=key&limit=5')).toBe('/api/v1/users?search=key&limit=5');
    expect(redactUrl('/healthz')).toBe('/healthz');
    expect(redactUrl('/x?monkey=1&keys=2')).toBe('/x?monkey=1&keys=2');
  });
});
