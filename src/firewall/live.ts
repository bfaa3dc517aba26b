/**
 * @module Live reads of a gateway (docs/reference/freesdn-firewall-module.md §10.2, §10.4, §9), vendor-neutral:
 * the vendor's live view (its descriptor's `live`, src/adapters/live.ts) with every answer redacted and every
 * adapter failure turned into a `DeviceError` carrying the vendor code. A read the vendor cannot serve (its
 * `read.*` capability flag is off) is refused with `CapabilityUnavailableError` before the device is contacted,
 * never answered with invented data.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LiveGateway, LogKind } from '../adapters/live.ts';
import { type Capability, type ClosableAdapter, type VendorDescriptor, unavailableReason } from '../adapters/registry.ts';
import { AdapterError } from '../adapters/types.ts';
import { CapabilityUnavailableError, DeviceError } from '../errors.ts';
import { redact } from '../secrets/redact.ts';

export { LIVE_LIMIT_MAX } from '../adapters/live.ts';

/** Throws `CapabilityUnavailableError` when `vendor` cannot serve `capability`; nothing is sent to the device. */
export function requireLiveCapability(vendor: VendorDescriptor, capability: Capability): void {
  if (vendor.capabilities[capability] && vendor.live !== undefined) return;
  const why = unavailableReason(vendor, capability) ?? 'the vendor offers no live reads';
  throw new CapabilityUnavailableError(
    capability,
    `${capability} is not available for ${vendor.name} gateways (vendor ${vendor.id}): ${why}.`,
  );
}

/** Maps an adapter failure to a `DeviceError` (vendor code kept, message already free of credentials). */
export async function fromDevice<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof AdapterError) throw new DeviceError(err.code, err.message);
    throw err;
  }
}

/** Runs a read through the device-error mapping and the redaction every live read passes. */
const guarded = async <T>(read: () => Promise<T>): Promise<T> => redact(await fromDevice(read));

/** The live view of a gateway from its (cached) adapter: every read device-error mapped and redacted. */
export function liveGateway(vendor: VendorDescriptor, adapter: ClosableAdapter): LiveGateway {
  if (vendor.live === undefined) throw new CapabilityUnavailableError('vendor', `${vendor.name} gateways (vendor ${vendor.id}) have no live reads.`);
  const view = vendor.live.open(adapter);
  return {
    status: () => guarded(() => view.status()),
    firewallRules: () => guarded(() => view.firewallRules()),
    natRules: () => guarded(() => view.natRules()),
    aliases: () => guarded(() => view.aliases()),
    interfaces: () => guarded(() => view.interfaces()),
    dhcpLeases: () => guarded(() => view.dhcpLeases()),
    arp: () => guarded(() => view.arp()),
    healthCheck: () => guarded(() => view.healthCheck()),
    haStatus: () => guarded(() => view.haStatus()),
    vpn: () => guarded(() => view.vpn()),
    connections: (limit) => guarded(() => view.connections(limit)),
    services: () => guarded(() => view.services()),
    logs: (kind: LogKind, limit) => guarded(() => view.logs(kind, limit)),
    firewallLog: (limit) => guarded(() => view.firewallLog(limit)),
    ...(view.bridgeVlans ? { bridgeVlans: () => guarded(() => (view.bridgeVlans as NonNullable<LiveGateway['bridgeVlans']>)()) } : {}),
    vlanInterfaces: () => guarded(() => offered(view, 'vlanInterfaces')),
    dhcpScopes: () => guarded(() => offered(view, 'dhcpScopes')),
    dhcpStaticMappings: () => guarded(() => offered(view, 'dhcpStaticMappings')),
    dnsOverrides: () => guarded(() => offered(view, 'dnsOverrides')),
  };
}

type OptionalRead = 'vlanInterfaces' | 'dhcpScopes' | 'dhcpStaticMappings' | 'dnsOverrides';

/** An optional read of the view; its flag was checked before, so a view without it is a descriptor bug. */
function offered<M extends OptionalRead>(view: LiveGateway, method: M): ReturnType<NonNullable<LiveGateway[M]>> {
  const read = view[method] as (() => ReturnType<NonNullable<LiveGateway[M]>>) | undefined;
  if (read === undefined) throw new Error(`the live view has no ${method}() although its flag is on`);
  return read.call(view);
}

// -------------------------------------------------------------------------------------------------------------
// Following a log (`logs/stream`): vendor APIs have no streaming log endpoint, so the newest lines are polled and diffed

/**
 * The lines of `batch` (the newest lines now) that follow `previous` (the newest lines at the last poll): the
 * largest suffix of `previous` that is a prefix of `batch` is what both saw. No overlap while `previous` had lines
 * means more lines arrived than one window holds, or the log rotated: `gap` is set and the whole batch is new.
 */
export function newLogLines(
  previous: readonly string[],
  batch: readonly string[],
): { lines: string[]; gap: boolean } {
  for (let skip = 0; skip < previous.length; skip++) {
    const overlap = previous.length - skip;
    if (overlap > batch.length) continue;
    let same = true;
    for (let i = 0; i < overlap && same; i++) same = previous[skip + i] === batch[i];
    if (same) return { lines: batch.slice(overlap), gap: false };
  }
  return { lines: [...batch], gap: previous.length > 0 && batch.length > 0 };
}

export type LogStreamEvent =
  | { type: 'line'; line: string }
  | { type: 'gap' }
  /** A poll found nothing new: lets the transport keep an idle connection alive. */
  | { type: 'idle' }
  | { type: 'error'; code: string; message: string }
  | { type: 'end'; reason: 'lifetime' | 'closed' };

interface FollowLogOptions {
  kind: LogKind;
  /** Lines read per poll: more new lines than this between two polls is reported as a `gap`. */
  window: number;
  intervalMs: number;
  /** The stream ends (`end`, reason `lifetime`) after this long. */
  maxDurationMs: number;
  /** Aborted when the client goes away: the loop stops at once (`end`, reason `closed`). */
  signal: AbortSignal;
}

/**
 * Polls the device log every `intervalMs` and emits each new line (redacted), starting after `initial` (the
 * window read when the stream opened). A failed poll emits `error` with the vendor code and the loop goes on:
 * the device may come back within the stream's lifetime.
 */
export async function followLog(
  gateway: LiveGateway,
  initial: readonly string[],
  opts: FollowLogOptions,
  emit: (event: LogStreamEvent) => void,
): Promise<void> {
  const deadline = Date.now() + opts.maxDurationMs;
  let previous = [...initial];
  while (!opts.signal.aborted) {
    const wait = Math.min(opts.intervalMs, deadline - Date.now());
    if (wait <= 0) {
      emit({ type: 'end', reason: 'lifetime' });
      return;
    }
    try {
      await sleep(wait, undefined, { signal: opts.signal });
    } catch {
      break; // aborted
    }
    try {
      const batch = (await gateway.logs(opts.kind, opts.window)).items.map((item) => item.line);
      if (opts.signal.aborted) break;
      const { lines, gap } = newLogLines(previous, batch);
      if (gap) emit({ type: 'gap' });
      for (const line of lines) emit({ type: 'line', line });
      if (!gap && lines.length === 0) emit({ type: 'idle' });
      previous = batch;
    } catch (err) {
      if (!(err instanceof DeviceError)) throw err;
      emit({ type: 'error', code: err.vendorCode, message: err.message });
    }
  }
  emit({ type: 'end', reason: 'closed' });
}
