/**
 * @module Group commit for grant creation (docs/adr/0096-grant-group-commit.md): concurrent callers' grants
 * are written in ONE transaction with multi-row statements (`writeGrants`), each caller still getting its own
 * rows or its own error.
 *
 * A batch starts `windowMs` after the first submission reaches an idle batcher; submissions arriving while a
 * batch's transaction runs form the next batch, which starts as soon as it commits. Callers validate before
 * submitting; should a batch's transaction still fail, nothing of it is written and each of its submissions
 * is retried in a transaction of its own, so the error reaches only the caller whose grants caused it.
 */
import type { ServiceContext } from '../../identity/context.ts';
import { inTransaction } from '../../identity/context.ts';
import type { Db } from '../../store/db.ts';
import {
  createGrants,
  type GrantNotifier,
  type GrantRow,
  type GrantSubmission,
  type NewGrant,
  replacementKey,
  writeGrants,
} from './grants.ts';

export interface GrantBatcherOptions {
  /** How long an idle batcher waits for company before writing. */
  windowMs?: number;
  /** At most this many grants per transaction (bounds the statements' parameter count). */
  maxGrants?: number;
}

interface Pending extends GrantSubmission {
  ctx: ServiceContext;
  resolve(rows: GrantRow[]): void;
  reject(error: unknown): void;
}

export class GrantBatcher {
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  private readonly windowMs: number;
  private readonly maxGrants: number;

  constructor(
    private readonly db: Db,
    private readonly notifier: GrantNotifier,
    options: GrantBatcherOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 2;
    this.maxGrants = options.maxGrants ?? 500;
  }

  /** Creates `specs` for the caller of `ctx` (its actor is audited); resolves once committed and notified. */
  create(ctx: ServiceContext, specs: readonly NewGrant[]): Promise<GrantRow[]> {
    if (specs.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ ctx, actor: ctx.actor, specs, resolve, reject });
      if (!this.draining && this.timer === null) {
        this.timer = setTimeout(() => {
          this.timer = null;
          void this.drain();
        }, this.windowMs);
      }
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) await this.write(this.nextBatch());
    } finally {
      this.draining = false;
    }
  }

  /**
   * Takes submissions in arrival order up to `maxGrants` (always at least one). A submission replacing the
   * same (knoc, user) as one already taken waits for the next batch, so the later grant replaces the earlier.
   */
  private nextBatch(): Pending[] {
    const batch: Pending[] = [];
    const replacing = new Set<string>();
    let grants = 0;
    for (let i = 0; i < this.queue.length; ) {
      const candidate = this.queue[i] as Pending;
      const keys = candidate.specs.map(replacementKey).filter((key) => key !== null);
      const fits = batch.length === 0 || grants + candidate.specs.length <= this.maxGrants;
      if (!fits) break;
      if (keys.some((key) => replacing.has(key))) {
        i++;
        continue;
      }
      for (const key of keys) replacing.add(key);
      grants += candidate.specs.length;
      batch.push(candidate);
      this.queue.splice(i, 1);
    }
    return batch;
  }

  private async write(batch: Pending[]): Promise<void> {
    const first = batch[0] as Pending;
    let written: Awaited<ReturnType<typeof writeGrants>>;
    try {
      written = await inTransaction({ ...first.ctx, db: this.db }, (tx) => writeGrants(tx, batch));
    } catch (error) {
      if (batch.length === 1) first.reject(error);
      else for (const submission of batch) await this.writeAlone(submission);
      return;
    }
    try {
      await this.notifier.grantsChanged(written.change);
    } catch (error) {
      for (const submission of batch) submission.reject(error);
      return;
    }
    batch.forEach((submission, i) => {
      submission.resolve(written.perSubmission[i] as GrantRow[]);
    });
  }

  /** The fallback after a failed batch: this submission in its own transaction, its error to it alone. */
  private async writeAlone(submission: Pending): Promise<void> {
    try {
      submission.resolve(await createGrants({ ...submission.ctx, db: this.db }, submission.specs, this.notifier));
    } catch (error) {
      submission.reject(error);
    }
  }
}
