/**
 * @module The lab's exact-endpoint allowance in the SSRF guard: only the one `address:port` passes, not the
 * host's other ports, not other loopback addresses, and the default port of the scheme counts.
 */
import { describe, expect, it } from 'vitest';
import { checkGatewayHost, EMPTY_ALLOW_LIST, withAllowedEndpoint } from '../../src/net/ssrf.ts';

const lab = withAllowedEndpoint(withAllowedEndpoint(EMPTY_ALLOW_LIST, '127.0.0.1', 48_443), '::1', 443);

describe('withAllowedEndpoint', () => {
  it.each([
    { row: 'the exact endpoint', url: 'https://127.0.0.1:48443', ok: true },
    { row: 'the exact endpoint with a path', url: 'https://127.0.0.1:48443/api/v2', ok: true },
    { row: 'IPv6 endpoint on the scheme default port', url: 'https://[::1]', ok: true },
    { row: 'IPv6 endpoint spelled out', url: 'https://[0:0:0:0:0:0:0:1]:443', ok: true },
    { row: 'same host, another port', url: 'https://127.0.0.1:48444', ok: false },
    { row: 'same host, default port', url: 'https://127.0.0.1', ok: false },
    { row: 'another loopback address, same port', url: 'https://127.0.0.2:48443', ok: false },
    { row: 'IPv6 endpoint, another port', url: 'https://[::1]:8443', ok: false },
    { row: 'a name for the host is not the endpoint', url: 'https://localhost:48443', ok: false },
  ])('$row → $ok', async ({ url, ok }) => {
    const check = checkGatewayHost(url, { allowHosts: lab, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    if (ok) await expect(check).resolves.toMatchObject({ allowListed: true });
    else await expect(check).rejects.toMatchObject({ field: 'url' });
  });

  it('leaves the list it extends untouched', () => {
    expect(EMPTY_ALLOW_LIST.endpoints).toBeUndefined();
  });
});
