/**
 * @module Gateway URLs of the nftables vendor through the SSRF guard: the descriptor's `urlSchemes` let
 * `ssh://host` through with its host checked like any other, and `local://` with no host; other vendors still
 * take http(s) only.
 */
import { describe, expect, it } from 'vitest';
import { nftablesVendor } from '../../src/adapters/nftables/vendor.ts';
import { checkGatewayHost } from '../../src/net/ssrf.ts';

const schemes = nftablesVendor.urlSchemes;

describe('nftables gateway URLs and the SSRF guard', () => {
  it('ssh:// with a public host passes; its host is checked (loopback refused)', async () => {
    expect(schemes).toBeDefined();
    await expect(checkGatewayHost('ssh://203.0.113.5:2222', { ...(schemes ? { schemes } : {}) })).resolves.toMatchObject({
      host: '203.0.113.5',
    });
    await expect(checkGatewayHost('ssh://127.0.0.1', { ...(schemes ? { schemes } : {}) })).rejects.toThrow(/loopback/);
  });

  it('local:// passes with no host; anything after it is refused', async () => {
    await expect(checkGatewayHost('local://', { ...(schemes ? { schemes } : {}) })).resolves.toMatchObject({ host: '' });
    await expect(checkGatewayHost('local://elsewhere', { ...(schemes ? { schemes } : {}) })).rejects.toThrow(/local/);
  });

  it('without the vendor schemes, ssh:// and local:// are refused', async () => {
    await expect(checkGatewayHost('ssh://203.0.113.5')).rejects.toThrow(/http or https/);
    await expect(checkGatewayHost('local://')).rejects.toThrow(/http or https/);
  });
});
