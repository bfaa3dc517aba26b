/**
 * @module Test helpers for the OPNsense adapter tests.
 */
import { OpnSenseAdapter, type OpnSenseAdapterOptions } from '../../src/adapters/opnsense/index.ts';

export function adapterAt(
  url: string,
  credentials: { api_key: string; api_secret: string },
  overrides: Partial<OpnSenseAdapterOptions> = {},
): OpnSenseAdapter {
  return new OpnSenseAdapter({
    url,
    apiKey: credentials.api_key,
    apiSecret: credentials.api_secret,
    tls: { mode: 'system' },
    timeouts: { connectMs: 1_000, headersMs: 1_000, bodyMs: 1_000 },
    retry: { maxRetries: 1, initialDelayMs: 5, maxDelayMs: 10 },
    breaker: { threshold: 1_000 },
    ...overrides,
  });
}
