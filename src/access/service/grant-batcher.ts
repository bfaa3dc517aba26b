/**
 * @module Group commit for grant creation (docs/adr/0096-grant-group-commit.md): concurrent callers' grants
 * are written in ONE transaction with multi-row statements (`writeGrants`), each caller still getting its own
 * rows or its own error.
 *
 * A batch starts `windowMs` after the first submission reaches an idle batcher; submissions arriving while a
 * batch's transaction runs form the next batch, which starts as soon as it commits. The knocs a batch needs
 * are read in one query and each request is validated on them before anything is written (a bad request is
 * refused alone). Should a batch's transaction still fail, nothing of it is written and each of its
 * submissions is retried in a transaction of its own, so the error reaches only the caller that caused it.
 */
import type { ServiceContext } from '../../core/context.ts';
import { inTransaction } from '../../core/context.ts';
import type { Db } from '../../store/db.ts';
import {
  createGrants,
  type GrantNotifier,
  type GrantRow,
  type GrantSubmission,
  type LoadedKnocs,
  loadGrantKnocs,
  type NewGrant,
  replacementKey,
  writeGrants,
} from './grants.ts';

interface GrantBatcherOptions {
  /** How long an idle batcher waits for company before writing. */
  windowMs?: number;
  /** At most this many grants per transaction (bounds the statements' parameter count). */
  maxGrants?: number;
}

/** A request whose grants depend on knocs: they are read once per batch for every request in it. */
interface GrantRequest {
  knocIds: readonly string[];
  /** Validates the request against its knocs and returns its grants; throwing fails this request alone. */
  build(knocs: LoadedKnocs): readonly NewGrant[] | Promise<readonly NewGrant[]>;
}

interface Pending {
  ctx: ServiceContext;
  request: GrantRequest;
  /** Set once built. */
  specs: readonly NewGrant[] | null;
  resolve(rows: GrantRow[]): void;
  reject(error: unknown): void;
}

type Built = Pending & GrantSubmission;

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
    return this.enqueue({ ctx, request: { knocIds: [], build: () => specs }, specs });
  }

  /** Like `create`, the grants built from knocs read with the rest of the batch. */
  submit(ctx: ServiceContext, request: GrantRequest): Promise<GrantRow[]> {
    return this.enqueue({ ctx, request, specs: null });
  }

  private enqueue(item: Omit<Pending, 'resolve' | 'reject'>): Promise<GrantRow[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...item, resolve, reject });
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
      while (this.queue.length > 0) {
        const batch = await this.built(this.take());
        if (batch.length > 0) await this.write(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  /** The first queued submissions, in arrival order, up to `maxGrants` grants (always at least one). */
  private take(): Pending[] {
    let grants = 0;
    let count = 0;
    for (const pending of this.queue) {
      const size = pending.specs?.length ?? Math.max(1, pending.request.knocIds.length);
      if (count > 0 && grants + size > this.maxGrants) break;
      grants += size;
      count++;
    }
    return this.queue.splice(0, count);
  }

  /**
   * Builds the taken submissions on knocs read once for all, rejecting those that fail to build. A submission
   * replacing the same (knoc, user) as an earlier one goes back to the head of the queue for the next batch,
   * so the later grant replaces the earlier.
   */
  private async built(taken: Pending[]): Promise<Built[]> {
    let knocs: LoadedKnocs = new Map();
    const knocIds = taken.flatMap((pending) => (pending.specs === null ? pending.request.knocIds : []));
    if (knocIds.length > 0) {
      try {
        knocs = await loadGrantKnocs(this.db, knocIds);
      } catch (error) {
        for (const pending of taken) pending.reject(error);
        return [];
      }
    }
    const batch: Built[] = [];
    const later: Pending[] = [];
    const replacing = new Set<string>();
    for (const pending of taken) {
      try {
        pending.specs ??= await pending.request.build(knocs);
      } catch (error) {
        pending.reject(error);
        continue;
      }
      if (pending.specs.length === 0) {
        pending.resolve([]);
        continue;
      }
      const keys = pending.specs.map(replacementKey).filter((key) => key !== null);
      if (keys.some((key) => replacing.has(key))) {
        later.push(pending);
        continue;
      }
      for (const key of keys) replacing.add(key);
      batch.push({ ...pending, actor: pending.ctx.actor, specs: pending.specs });
    }
    this.queue.unshift(...later);
    return batch;
  }

  private async write(batch: Built[]): Promise<void> {
    const first = batch[0] as Built;
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
  private async writeAlone(submission: Built): Promise<void> {
    try {
      submission.resolve(await createGrants({ ...submission.ctx, db: this.db }, submission.specs, this.notifier));
    } catch (error) {
      submission.reject(error);
    }
  }
}
