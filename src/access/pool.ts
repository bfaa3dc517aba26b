/**
 * @module The set of running reconcilers, one per (gateway, alias) key, with grant expiry wired to them: when a
 * grant's `expires_at` comes, the reconciler of its alias is poked (docs/adr/0071, docs/adr/0074).
 *
 * The pool holds no grant data beyond `grant id → (key, expires_at)`; the desired sets come from the store
 * through each reconciler's `desired` function.
 */
import { ExpiryScheduler, type ExpirySchedulerOptions } from './expiry.ts';
import type { AliasReconciler, ReconcilerStatus } from './reconciler.ts';

/** Key of one reconciler: the gateway id and the alias name. */
export function reconcilerKey(gatewayId: string, aliasName: string): string {
  return `${gatewayId}\u0000${aliasName}`;
}

export class ReconcilerPool {
  private readonly reconcilers = new Map<string, AliasReconciler>();
  private readonly grantKeys = new Map<string, string>();
  private readonly expiry: ExpiryScheduler<string>;

  /** `create` builds the reconciler of a key on first use; the pool starts it (full reconcile + periodic). */
  /** Where expiry pokes go (the runtime routes them to the key's owner); default: this pool's reconciler. */
  onExpired: (key: string) => void = (key) => this.poke(key);

  constructor(
    private readonly create: (key: string) => AliasReconciler,
    options: ExpirySchedulerOptions = {},
  ) {
    this.expiry = new ExpiryScheduler<string>((grantIds) => this.expired(grantIds), options);
  }

  /** The reconciler of `key`, created and started on first use. */
  get(key: string): AliasReconciler {
    let reconciler = this.reconcilers.get(key);
    if (reconciler === undefined) {
      reconciler = this.create(key);
      this.reconcilers.set(key, reconciler);
      reconciler.start();
    }
    return reconciler;
  }

  poke(key: string): void {
    this.get(key).poke();
  }

  /** Whether `key` has a running reconciler here. */
  has(key: string): boolean {
    return this.reconcilers.has(key);
  }

  /** Keys with a running reconciler here. */
  keys(): string[] {
    return [...this.reconcilers.keys()];
  }

  /** Resolves when the reconciler of `key` (if any) has no run queued or in flight. */
  idle(key: string): Promise<void> {
    return this.reconcilers.get(key)?.idle() ?? Promise.resolve();
  }

  /** Schedules the poke of `key` at the grant's expiry (re-scheduling an extended grant moves it). */
  trackGrant(grantId: string, key: string, expiresAt: number): void {
    this.grantKeys.set(grantId, key);
    this.expiry.set(grantId, expiresAt);
  }

  /** Drops a grant that ended before its expiry; the caller pokes its key after recording the end. */
  forgetGrant(grantId: string): void {
    this.grantKeys.delete(grantId);
    this.expiry.delete(grantId);
  }

  /** Number of grants waiting for their expiry. */
  get trackedGrants(): number {
    return this.expiry.size;
  }

  status(key: string): ReconcilerStatus | undefined {
    return this.reconcilers.get(key)?.status();
  }

  /** Stops and forgets the reconciler of `key` (knoc deleted or moved to another alias). */
  async remove(key: string): Promise<void> {
    const reconciler = this.reconcilers.get(key);
    this.reconcilers.delete(key);
    for (const [grantId, grantKey] of this.grantKeys) if (grantKey === key) this.forgetGrant(grantId);
    await reconciler?.stop();
  }

  async stop(): Promise<void> {
    this.expiry.stop();
    this.grantKeys.clear();
    const all = [...this.reconcilers.values()];
    this.reconcilers.clear();
    await Promise.all(all.map((reconciler) => reconciler.stop()));
  }

  private expired(grantIds: string[]): void {
    const keys = new Set<string>();
    for (const grantId of grantIds) {
      const key = this.grantKeys.get(grantId);
      this.grantKeys.delete(grantId);
      if (key !== undefined) keys.add(key);
    }
    for (const key of keys) this.onExpired(key);
  }
}
