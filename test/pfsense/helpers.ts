/**
 * @module Test helpers for the pfSense adapter tests: an emulator per test file and adapters pointed at it.
 */
import { createServer } from 'node:net';
import { PfSenseAdapter, type PfSenseAdapterOptions } from '../../src/adapters/pfsense/index.ts';
import type { LiveState, PfRestEmulator } from '../../src/emulators/pfrest/index.ts';

/** An adapter that pins the emulator's certificate, with short timeouts and no retry delay to speak of. */
export function adapterFor(
  emu: PfRestEmulator,
  overrides: Partial<PfSenseAdapterOptions> = {},
): PfSenseAdapter {
  return new PfSenseAdapter({
    url: emu.url,
    apiKey: emu.apiKey,
    tls: { mode: 'fingerprint', sha256: emu.fingerprint },
    timeouts: { connectMs: 2_000, headersMs: 2_000, bodyMs: 2_000 },
    retry: { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 20 },
    apply: { pollIntervalMs: 20, deadlineMs: 5_000 },
    ...overrides,
  });
}

/** A loopback port with nothing listening (bound then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function liveState(source: string, destination: string, extra: Partial<LiveState> = {}): LiveState {
  return {
    interface: 'wan',
    protocol: 'tcp',
    direction: 'in',
    source,
    destination,
    state: 'ESTABLISHED:ESTABLISHED',
    age: '00:05:00',
    expires_in: '23:55:00',
    packets_total: 10,
    packets_in: 6,
    packets_out: 4,
    bytes_total: 1000,
    bytes_in: 600,
    bytes_out: 400,
    ...extra,
  };
}

/** Runs `fn` and returns the error it throws (fails the test when it does not throw). */
export async function failure(
  fn: () => Promise<unknown>,
): Promise<Error & { code?: string; privilege?: string; retryable?: boolean; responseId?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected the call to fail');
}
