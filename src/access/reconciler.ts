/**
 * @module The alias reconciler: keeps one (gateway, alias) equal to the desired set
 * (docs/adr/0071-alias-reconciliation.md).
 *
 * Each run reads the device alias, computes the complete entry list (`planAliasEntries`), writes it once,
 * applies, reads it back to verify, then kills the states of addresses it removed when the knoc asks for it.
 * Runs never overlap: pokes that arrive while a run is in flight mark the reconciler dirty, and every grant
 * they stand for is carried by the single next run (one write + one apply). A failed run keeps everything
 * pending and retries with capped exponential backoff; a periodic run (default 5 min) and the first run after
 * construction catch drift, crashes and lost pokes.
 *
 * The reconciler knows nothing of the store: it is handed a desired-set function and an `AliasTarget`, and it
 * reports each run's `ReconcileOutcome` for the caller to persist.
 */
import { AdapterError, type AliasTarget } from '../adapters/types.ts';
import { aliasHostAddresses, isAddressAliasType, planAliasEntries } from './alias-entries.ts';
import type { DesiredEntry } from './desired-set.ts';

/**
 * Vendor codes the reconciler itself raises (adapter failures keep the adapter's own code); the runtime takes
 * them from the vendor's descriptor (`VendorErrorCodes`, src/adapters/registry.ts).
 */
interface ReconcilerCodes {
  /** The alias is missing and creating it is not allowed. */
  aliasNotFound: string;
  /** The alias exists but cannot hold addresses, e.g. a port or URL alias. */
  aliasUnusable: string;
  /** The read-back after apply does not show the written addresses. */
  verifyMismatch: string;
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of each delay taken off at random (0 = deterministic), so many gateways do not retry in step. */
  jitter: number;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 60_000, factor: 2, jitter: 0.2 };
const DEFAULT_PERIODIC_MS = 5 * 60_000;

export interface ReconcilerOptions {
  aliasName: string;
  target: AliasTarget;
  /** The desired set now (see `computeDesiredSet`); read at the start of every run. */
  desired: () => Promise<readonly DesiredEntry[]> | readonly DesiredEntry[];
  /** Create the alias (type host) when the device has none; read at every run so a knoc edit takes effect. */
  createIfMissing: () => boolean;
  /** Kill the states of removed addresses (knoc `kill_states_on_revoke`). */
  killStatesOnRevoke: () => boolean;
  /**
   * The device expires entries itself (`native_expiry`): our entries carry their grant's expiry, so access ends
   * on the device even while Portcullis is down; every full run still re-asserts them (docs/adr/0180-native-expiry.md).
   */
  nativeExpiry?: () => boolean;
  codes: ReconcilerCodes;
  /**
   * Where the addresses whose states are still to be killed are kept beyond this process (ADR 0222): read at the
   * first run, so a restart or another node taking the alias over still kills them.
   */
  killLedger?: KillLedger;
  /** Description given to an alias the reconciler creates. */
  aliasDescription?: string;
  backoff?: Partial<BackoffPolicy>;
  /** Full reconcile interval; `null` disables it. Default 5 minutes. */
  periodicMs?: number | null;
  /**
   * Checked before every run: false skips it and keeps the work owed for the next poke (a node that is not sure
   * it still holds the alias's lease must not write, ADR 0220). Default: always true.
   */
  mayRun?: () => boolean;
  /** Called after every run, success or failure. Exceptions thrown here are not caught. */
  onOutcome?: (outcome: ReconcileOutcome) => void;
  now?: () => number;
  random?: () => number;
}

/** The persisted list of addresses owed a state kill (see `ReconcilerOptions.killLedger`). */
export interface KillLedger {
  load(): Promise<string[]>;
  add(ips: readonly string[]): Promise<void>;
  remove(ips: readonly string[]): Promise<void>;
}

interface ReconcileErrorInfo {
  code: string;
  message: string;
  /** Epoch ms of the first failure with this code in the current failing streak. */
  since: number;
}

/** What one run achieved. */
export interface ReconcileOutcome {
  at: number;
  /** Everything done: the device matches the desired set, applied and verified, and requested kills done. */
  ok: boolean;
  /** The device alias was verified to match the desired snapshot of this run. */
  synced: boolean;
  /** The addresses of the desired snapshot (for marking ended grants removed once `synced`). */
  desiredIps: string[];
  /** Grant ids of the snapshot now live on the device (empty unless `synced`). */
  liveGrantIds: string[];
  /** Grant ids of the snapshot still waiting (empty when `synced`). */
  pendingGrantIds: string[];
  /** Our addresses this run took off the alias. */
  removedIps: string[];
  killed: { ip: string; states: number }[];
  wrote: boolean;
  applied: boolean;
  /** Single addresses on the device alias at this run's read-back (ours and manual); null if not read back. */
  deviceCount: number | null;
  error: ReconcileErrorInfo | null;
  /** This run succeeded after one or more failed runs. */
  recovered: boolean;
  /** Delay before the automatic retry of a failed run. */
  retryInMs: number | null;
}

export interface ReconcilerStatus {
  desiredCount: number;
  deviceCount: number | null;
  lastSyncAt: number | null;
  lastApplyAt: number | null;
  /** Work is queued, in flight, or waiting for a retry. */
  pending: boolean;
  error: ReconcileErrorInfo | null;
  /** Alias writes and applies issued since construction. */
  writes: number;
  applies: number;
}

/** What a run has done so far; reported even when it fails part-way. */
interface RunProgress {
  wrote: boolean;
  applied: boolean;
  removedIps: string[];
  killed: { ip: string; states: number }[];
  /** Addresses on the alias at the read-back; null until then. */
  deviceCount: number | null;
}

/** A failure detected by the reconciler itself, with a vendor code from `ReconcilerCodes`. */
class ReconcileError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReconcileError';
  }
}

export class AliasReconciler {
  private readonly options: ReconcilerOptions;
  private readonly backoff: BackoffPolicy;
  private readonly now: () => number;
  private readonly random: () => number;

  private dirty = false;
  private queued = false;
  private running: Promise<void> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private periodicTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  /** A write reached the device but no apply has confirmed it yet (also true before the first run: see ADR). */
  private applyOwed = true;
  /** Addresses removed from the alias whose states still need killing. */
  private readonly killOwed = new Set<string>();
  /** The kill ledger has been read into `killOwed`. */
  private killsLoaded = false;
  private failures = 0;
  private error: ReconcileErrorInfo | null = null;
  private desiredCount = 0;
  private deviceCount: number | null = null;
  private lastSyncAt: number | null = null;
  private lastApplyAt: number | null = null;
  private writes = 0;
  private applies = 0;

  constructor(options: ReconcilerOptions) {
    this.options = options;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** Runs a full reconcile now and starts the periodic one. */
  start(): void {
    const periodicMs = this.options.periodicMs === undefined ? DEFAULT_PERIODIC_MS : this.options.periodicMs;
    if (periodicMs !== null && this.periodicTimer === undefined) {
      this.periodicTimer = setInterval(() => this.poke(), periodicMs);
      this.periodicTimer.unref?.();
    }
    this.poke();
  }

  /**
   * Asks for a run. Pokes in the same tick, and pokes while a run is in flight or waiting for a retry, coalesce
   * into one run that reads the desired set afresh.
   */
  poke(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.running !== null || this.queued || this.retryTimer !== undefined) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      if (this.options.mayRun && !this.options.mayRun()) {
        this.releaseIdle();
        return;
      }
      this.running = this.loop();
    });
  }

  /** Resolves when no run is queued or in flight (a pending retry timer does not count). */
  idle(): Promise<void> {
    if (this.running === null && !this.queued) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Pokes and waits for the resulting run(s) to finish. */
  async reconcileNow(): Promise<void> {
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.poke();
    await this.idle();
  }

  status(): ReconcilerStatus {
    return {
      desiredCount: this.desiredCount,
      deviceCount: this.deviceCount,
      lastSyncAt: this.lastSyncAt,
      lastApplyAt: this.lastApplyAt,
      pending:
        this.dirty || this.queued || this.running !== null || this.retryTimer !== undefined || this.applyOwed,
      error: this.error,
      writes: this.writes,
      applies: this.applies,
    };
  }

  /** Stops timers and waits for an in-flight run; later pokes are ignored. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    if (this.periodicTimer !== undefined) clearInterval(this.periodicTimer);
    this.retryTimer = undefined;
    this.periodicTimer = undefined;
    await this.idle();
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty && !this.stopped) {
        if (this.options.mayRun && !this.options.mayRun()) break;
        this.dirty = false;
        const outcome = await this.runOnce();
        this.options.onOutcome?.(outcome);
        if (!outcome.ok) {
          this.dirty = true;
          this.scheduleRetry(outcome.retryInMs ?? this.backoff.initialMs);
          break;
        }
      }
    } finally {
      this.running = null;
      this.releaseIdle();
    }
  }

  private releaseIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private scheduleRetry(delay: number): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.poke();
    }, delay);
    this.retryTimer.unref?.();
  }

  private retryDelay(failures: number): number {
    const { initialMs, maxMs, factor, jitter } = this.backoff;
    const base = Math.min(maxMs, initialMs * factor ** (failures - 1));
    return Math.round(base * (1 - jitter * this.random()));
  }

  private async runOnce(): Promise<ReconcileOutcome> {
    const { aliasName, target, codes } = this.options;
    let desired: readonly DesiredEntry[] = [];
    const progress: RunProgress = {
      wrote: false,
      applied: false,
      removedIps: [],
      killed: [],
      deviceCount: null,
    };
    let synced = false;
    try {
      desired = await this.options.desired();
      this.desiredCount = desired.length;
      const ledger = this.options.killLedger;
      if (ledger && !this.killsLoaded) {
        for (const ip of await ledger.load()) this.killOwed.add(ip);
        this.killsLoaded = true;
      }

      let alias = await target.getAlias(aliasName);
      if (alias === null) {
        if (!this.options.createIfMissing()) {
          throw new ReconcileError(
            codes.aliasNotFound,
            `alias ${aliasName} does not exist on the device and creating it is not allowed; create it or allow creation on the knoc`,
          );
        }
        await target.createAlias(aliasName, 'host', this.options.aliasDescription ?? 'Managed by Portcullis');
        alias = { name: aliasName, type: 'host', descr: '', entries: [] };
      }
      const type = alias.type;
      if (!isAddressAliasType(type)) {
        throw new ReconcileError(
          codes.aliasUnusable,
          `alias ${aliasName} has type ${type}, which cannot hold addresses; use a host or network alias`,
        );
      }

      const plan = planAliasEntries(alias.entries, desired, type, {
        nativeExpiry: this.options.nativeExpiry?.() ?? false,
      });
      for (const ip of plan.removed) this.killOwed.add(ip);
      const granted = desired.filter((entry) => this.killOwed.delete(entry.ip)).map((entry) => entry.ip);
      if (ledger) {
        // Stored before the write: an address is never off the alias without its kill on record.
        if (plan.removed.length > 0) await ledger.add(plan.removed);
        if (granted.length > 0) await ledger.remove(granted);
      }
      progress.removedIps = plan.removed;
      if (plan.changed) {
        await target.setAliasEntries(aliasName, plan.entries);
        this.writes++;
        this.applyOwed = true;
        progress.wrote = true;
      }
      if (this.applyOwed) {
        await target.apply();
        this.applies++;
        this.applyOwed = false;
        this.lastApplyAt = this.now();
        progress.applied = true;
      }

      const after = await target.getAlias(aliasName);
      if (after === null)
        throw new ReconcileError(
          codes.aliasNotFound,
          `alias ${aliasName} disappeared from the device during reconciliation`,
        );
      const present = aliasHostAddresses(after.entries, type);
      this.deviceCount = present.size;
      progress.deviceCount = present.size;
      const missing = desired.filter((entry) => !present.has(entry.ip)).length;
      const lingering = plan.removed.filter((ip) => present.has(ip)).length;
      if (missing > 0 || lingering > 0) {
        this.applyOwed = true;
        throw new ReconcileError(
          codes.verifyMismatch,
          `alias ${aliasName} read back after apply lacks ${missing} desired and still holds ${lingering} removed addresses`,
        );
      }
      synced = true;
      this.lastSyncAt = this.now();

      if (this.options.killStatesOnRevoke()) {
        for (const ip of [...this.killOwed]) {
          progress.killed.push({ ip, states: await target.killStates(ip) });
          this.killOwed.delete(ip);
          await ledger?.remove([ip]);
        }
      } else {
        if (ledger && this.killOwed.size > 0) await ledger.remove([...this.killOwed]);
        this.killOwed.clear();
      }
      return this.finish(desired, synced, progress, null);
    } catch (err) {
      return this.finish(desired, synced, progress, err);
    }
  }

  private finish(
    desired: readonly DesiredEntry[],
    synced: boolean,
    progress: RunProgress,
    err: unknown,
  ): ReconcileOutcome {
    const at = this.now();
    const grantIds = desired.flatMap((entry) => entry.grantIds);
    const recovered = err === null && this.failures > 0;
    let retryInMs: number | null = null;
    if (err === null) {
      this.failures = 0;
      this.error = null;
    } else {
      this.failures++;
      const { code, message } = describeError(err);
      this.error = { code, message, since: this.error?.code === code ? this.error.since : at };
      retryInMs = this.retryDelay(this.failures);
    }
    return {
      at,
      ok: err === null,
      synced,
      desiredIps: desired.map((entry) => entry.ip),
      liveGrantIds: synced ? grantIds : [],
      pendingGrantIds: synced ? [] : grantIds,
      removedIps: progress.removedIps,
      killed: progress.killed,
      wrote: progress.wrote,
      applied: progress.applied,
      deviceCount: progress.deviceCount,
      error: this.error,
      recovered,
      retryInMs,
    };
  }
}

/** Code and safe message of a run failure. Adapter errors never carry credentials (adapter contract). */
function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof AdapterError || err instanceof ReconcileError)
    return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}
