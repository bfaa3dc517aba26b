/**
 * @module The tasks the job runner runs (src/jobs/runner.ts), docs/reference/freesdn-firewall-module.md §23:
 * gateway sync every `sync_interval_minutes`, health poll and firewall-log ingestion every 2 minutes, log
 * retention hourly, the pending-change reaper and access-request expiry every minute, the drift check every
 * `drift_check_interval_minutes` and import-session retention (`import_retention_days`) hourly. To add a task,
 * append a `JobTask` to `JOB_TASKS` (or call `app.jobs.register` before the app is ready): a name, `per`
 * (gateway / org / global), an interval from the org's settings and `run`.
 */
import { expireAccessRequests } from '../access/service/requests.ts';
import type { ClosableAdapter, VendorDescriptor } from '../adapters/registry.ts';
import { type ServiceContext, serviceContext } from '../core/context.ts';
import { CapabilityUnavailableError, DeviceError } from '../errors.ts';
import type { EventBus } from '../events/bus.ts';
import { pollGatewayHealth } from '../firewall/health.ts';
import { fromDevice, liveGateway } from '../firewall/live.ts';
import { pruneLogs } from '../firewall/logs.ts';
import { reapStuckPendingChanges } from '../firewall/pending.ts';
import { cleanupDistributionLocks } from '../orchestration/distribution/index.ts';
import { readSettings } from '../firewall/settings.ts';
import { ingestGatewayLogs, SyncBusyError, syncGateway } from '../firewall/sync.ts';
import { checkGateway } from '../orchestration/drift/check.ts';
import { autoRemediate } from '../orchestration/drift/service.ts';
import { purgeImportSessions } from '../orchestration/import/session.ts';
import type { LiveGateway } from '../adapters/live.ts';
import type { Keyring } from '../secrets/keyring.ts';
import type { Store } from '../store/db.ts';
import type { JobKey, JobTask } from './runner.ts';

/** What the tasks use: the store, the keyring, the event bus and the cached gateway adapters. */
export interface JobContext {
  store: Store;
  keyring: Keyring;
  bus: EventBus;
  adapters: { get(gatewayId: string): Promise<{ vendor: VendorDescriptor; adapter: ClosableAdapter }> };
  /**
   * The live-write gates automatic drift remediation passes (`PORTCULLIS_READ_ONLY`, the pending cap, this
   * node's name); absent: remediation only stages, as on a read-only deployment.
   */
  writes?: { readOnly: boolean; maxOpen: number; node: string };
}

const systemCtx = (c: JobContext, key: JobKey): ServiceContext =>
  serviceContext(c.store.db, c.keyring, { orgId: key.orgId });

/** The gateway's vendor and live view; a gateway that cannot be built (no credentials, host refused) throws a `DeviceError`. */
async function liveOf(c: JobContext, gatewayId: string): Promise<{ vendor: VendorDescriptor; live: LiveGateway }> {
  const { vendor, adapter } = await fromDevice(() => c.adapters.get(gatewayId));
  return { vendor, live: liveGateway(vendor, adapter) };
}

export const gatewaySync: JobTask<JobContext> = {
  name: 'gateway-sync',
  per: 'gateway',
  intervalSeconds: (settings) => settings.sync_interval_minutes * 60,
  async run(key, c) {
    try {
      await syncGateway(systemCtx(c, key), c.bus, key.gatewayId as string, () => liveOf(c, key.gatewayId as string), {
        fullSync: false,
      });
    } catch (err) {
      // A sync started from the API is running (this interval's work is being done), or the vendor has no live reads.
      if (!(err instanceof SyncBusyError) && !(err instanceof CapabilityUnavailableError)) throw err;
    }
  },
};

const healthPoll: JobTask<JobContext> = {
  name: 'gateway-health',
  per: 'gateway',
  intervalSeconds: () => 120,
  expireInSeconds: 300,
  async run(key, c) {
    const gatewayId = key.gatewayId as string;
    let live: LiveGateway | null = null;
    try {
      live = (await liveOf(c, gatewayId)).live;
    } catch (err) {
      if (err instanceof CapabilityUnavailableError) return;
      if (!(err instanceof DeviceError)) throw err;
    }
    await pollGatewayHealth(systemCtx(c, key), c.bus, gatewayId, live);
  },
};

const logIngestion: JobTask<JobContext> = {
  name: 'gateway-logs',
  per: 'gateway',
  intervalSeconds: () => 120,
  expireInSeconds: 300,
  async run(key, c) {
    const gatewayId = key.gatewayId as string;
    const { vendor, live } = await liveOf(c, gatewayId);
    if (!vendor.capabilities['read.logs']) return;
    await ingestGatewayLogs(systemCtx(c, key), gatewayId, live);
  },
};

const logRetention: JobTask<JobContext> = {
  name: 'log-retention',
  per: 'org',
  intervalSeconds: () => 3600,
  async run(key, c) {
    await pruneLogs(systemCtx(c, key));
  },
};

/** Fails changes stuck in `applying` by a node that died (never retried: part of a change may have been written). */
const pendingReaper: JobTask<JobContext> = {
  name: 'pending-reaper',
  per: 'global',
  intervalSeconds: () => 60,
  async run(_key, c) {
    await reapStuckPendingChanges({ db: c.store.db, events: c.bus });
  },
};

/**
 * The spec's `gateway.cleanup_distribution_locks` (§23): every 10 minutes, expired distribution locks are deleted
 * and a distribution still running under one is failed (`lock_expired`; docs/orchestration.md "Distribution").
 */
const distributionLockCleanup: JobTask<JobContext> = {
  name: 'cleanup-distribution-locks',
  per: 'global',
  intervalSeconds: () => 600,
  async run(_key, c) {
    await cleanupDistributionLocks({ db: c.store.db, events: c.bus });
  },
};

/** Access requests nobody decided in time become `expired`, with an event (docs/access-requests.md). */
export const accessRequestExpiry: JobTask<JobContext> = {
  name: 'access-request-expiry',
  per: 'org',
  intervalSeconds: () => 60,
  async run(key, c) {
    c.bus.emit(await expireAccessRequests(systemCtx(c, key)));
  },
};

/**
 * Drift check of each gateway every `drift_check_interval_minutes` (§19, §23); with `auto_remediate_drift` the
 * events it opens are reapplied through the staged path (src/orchestration/drift/service.ts `autoRemediate`).
 */
export const driftCheck: JobTask<JobContext> = {
  name: 'drift-check',
  per: 'gateway',
  intervalSeconds: (settings) => settings.drift_check_interval_minutes * 60,
  async run(key, c) {
    const ctx = systemCtx(c, key);
    const deps = {
      readOnly: c.writes?.readOnly ?? true,
      maxOpen: c.writes?.maxOpen ?? 100,
      node: c.writes?.node ?? 'jobs',
      events: c.bus,
      device: (gatewayId: string) => fromDevice(() => c.adapters.get(gatewayId)),
    };
    const result = await checkGateway(ctx, deps, key.gatewayId as string);
    if (result.opened.length === 0) return;
    if ((await readSettings(c.store.db, key.orgId)).auto_remediate_drift) await autoRemediate(ctx, deps, result.opened);
  },
};

/** Import sessions untouched for `import_retention_days` (§19) are deleted, hourly. */
export const importRetention: JobTask<JobContext> = {
  name: 'import-retention',
  per: 'org',
  intervalSeconds: () => 3600,
  async run(key, c) {
    await purgeImportSessions(systemCtx(c, key));
  },
};

export const JOB_TASKS: readonly JobTask<JobContext>[] = [
  gatewaySync,
  healthPoll,
  logIngestion,
  logRetention,
  pendingReaper,
  distributionLockCleanup,
  accessRequestExpiry,
  driftCheck,
  importRetention,
];
