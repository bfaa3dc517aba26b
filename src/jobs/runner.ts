/**
 * @module The background job runner on pg-boss (docs/adr/0175-background-jobs-on-pg-boss.md): the same queues
 * on PostgreSQL and on embedded PGlite (pg-boss's `db` option, `executeSql` over the store's connection).
 *
 * - **Tasks** (`JobTask`) are registered before `start()`. Each runs per live gateway, per org or once
 *   (`per`), every `intervalSeconds(settings)` — read from the org's firewall settings at every tick, so a
 *   settings change applies at the next tick without a restart.
 * - **Ticks** (every `tickSeconds`, and once at start) derive the due jobs from our tables: every live gateway
 *   (or org) whose last job of the task was created at least one interval ago gets one. Jobs are derived state:
 *   nothing is lost if the queue is emptied, the next tick re-creates what is due.
 * - **One job per key at a time across nodes**: each queue has pg-boss's `singleton` policy (a unique index lets
 *   one job per singleton key be active), the key is the gateway (org) id, and `singletonSeconds` = the interval
 *   makes two nodes ticking in the same interval create one job. A tick skips keys with a job queued or running.
 * - A job that outlives `expireInSeconds` is failed by pg-boss's maintenance; the next tick creates a new one.
 * - **A node that dies mid-job** (docs/scale-out.md): with a cluster node, each running job is held by a lease
 *   `job:<id>` renewed by the node's heartbeat; at every heartbeat a node fails the active jobs whose lease has
 *   lapsed and sends them again, so a dead node's gateway is polled again within one lease, not after
 *   `expireInSeconds`.
 */
import type { FastifyBaseLogger } from 'fastify';
import PgBoss from 'pg-boss';
import type { PGlite } from '@electric-sql/pglite';
import { readSettings, type FirewallSettings } from '../firewall/settings.ts';
import type { ClusterNode } from '../cluster/node.ts';
import type { Store } from '../store/db.ts';

/** What a job carries: its org and, for per-gateway tasks, its gateway. */
export interface JobKey {
  orgId: string;
  gatewayId: string | null;
}

export interface JobTask<C> {
  /** The queue name (letters, digits, `-`, `.`, `_`). */
  name: string;
  /** `gateway`: one job per live gateway; `org`: one per org; `global`: one for the installation. */
  per: 'gateway' | 'org' | 'global';
  /** Seconds between runs for one key, from the org's settings (read at every tick). */
  intervalSeconds(settings: FirewallSettings): number;
  /** Longest run before pg-boss fails the job; default 15 minutes. */
  expireInSeconds?: number;
  run(key: JobKey, context: C): Promise<void>;
}

export interface JobRunnerOptions<C> {
  store: Store & { readonly pglite?: PGlite | null };
  log: FastifyBaseLogger;
  context: C;
  /** How often due jobs are derived; default 30 s. */
  tickSeconds?: number;
  /** How often a worker asks for a job; default 1 s (pg-boss's minimum is 0.5 s). A worker takes at most one job per poll. */
  pollingSeconds?: number;
  /** Workers per queue in this process (jobs of different gateways run side by side); default 4. */
  concurrency?: number;
  /** This process as a cluster node: running jobs hold leases, and jobs of dead nodes are failed (see above). */
  node?: ClusterNode;
}

/** The pg-boss schema (tables `pgboss.*`, created and migrated by pg-boss itself at start). */
export const JOB_SCHEMA = 'pgboss';

/** pg-boss's database contract over the store's connection; multi-statement scripts run through PGlite's `exec`. */
function bossDb(store: JobRunnerOptions<unknown>['store']) {
  const pglite = store.pglite ?? null;
  return {
    async executeSql(text: string, values?: unknown[]) {
      if (pglite && (values === undefined || values.length === 0)) {
        const results = await pglite.exec(text);
        return { rows: results.at(-1)?.rows ?? [] };
      }
      return { rows: await store.query(text, values) };
    },
  };
}

/**
 * Creates a task's queue unless it exists. Nodes starting together race to create the same queue (its partition
 * table): PostgreSQL answers one of them with a deadlock or a duplicate, after which the queue exists — so the
 * loser retries and finds it.
 */
async function ensureQueue(boss: PgBoss, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (await boss.getQueue(name)) return;
    try {
      await boss.createQueue(name, { name, policy: 'singleton', retryLimit: 0 });
      return;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt >= 5 || (code !== '40P01' && code !== '23505' && code !== '42P07')) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

export class JobRunner<C> {
  private readonly tasks: JobTask<C>[] = [];
  private boss: PgBoss | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<number> | null = null;

  constructor(private readonly options: JobRunnerOptions<C>) {}

  /** Adds a task; only before `start()`. Task names are unique. */
  register(task: JobTask<C>): void {
    if (this.boss) throw new Error(`job task ${task.name} registered after the runner started`);
    if (this.tasks.some((t) => t.name === task.name)) throw new Error(`job task ${task.name} is registered twice`);
    this.tasks.push(task);
  }

  get started(): boolean {
    return this.boss !== null;
  }

  /** Starts pg-boss, its queues and workers, derives the due jobs once, then ticks. */
  async start(): Promise<void> {
    if (this.boss) return;
    const { log } = this.options;
    const boss = new PgBoss({
      db: bossDb(this.options.store),
      schema: JOB_SCHEMA,
      // Jobs are derived from our tables at every tick: pg-boss's cron scheduler is not used.
      schedule: false,
      // Completed jobs are what a tick measures the interval from: keep them longer than the longest interval.
      archiveCompletedAfterSeconds: 2 * 86_400,
    });
    boss.on('error', (err) => log.warn({ err }, 'job queue error'));
    await boss.start();
    this.boss = boss;
    const polling = this.options.pollingSeconds ?? 1;
    for (const task of this.tasks) {
      await ensureQueue(boss, task.name);
      for (let i = 0; i < (this.options.concurrency ?? 4); i++) {
        await boss.work<JobKey>(task.name, { pollingIntervalSeconds: polling, batchSize: 1 }, async ([job]) => {
          if (job) await this.runJob(task, job.data, job.id);
        });
      }
    }
    await this.tick();
    this.options.node?.onTick(() => this.reapOrphans());
    this.timer = setInterval(() => void this.tick().catch((err: unknown) => log.warn({ err }, 'job tick failed')), (this.options.tickSeconds ?? 30) * 1000);
    this.timer.unref();
    log.info({ tasks: this.tasks.map((t) => t.name) }, 'job runner started');
  }

  /** Stops ticking, lets running jobs finish (up to `timeoutMs`) and stops pg-boss. Idempotent. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking?.catch(() => 0);
    const boss = this.boss;
    this.boss = null;
    await boss?.stop({ graceful: true, wait: true, timeout: timeoutMs, close: false });
  }

  /** Derives and enqueues the due jobs now; returns how many were created (ticks never overlap). */
  tick(): Promise<number> {
    this.ticking ??= this.enqueueDue().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  /** Resolves once no job of any task is queued or running (tests, benchmarks). */
  async idle(pollMs = 50): Promise<void> {
    const names = this.tasks.map((t) => t.name);
    for (;;) {
      const [row] = await this.options.store.query<{ n: number }>(
        `select count(*)::int as n from ${JOB_SCHEMA}.job where name = any($1) and state in ('created', 'retry', 'active')`,
        [names],
      );
      if (!row || row.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  private async runJob(task: JobTask<C>, key: JobKey, jobId: string): Promise<void> {
    const node = this.options.node;
    const lease = `job:${jobId}`;
    await node?.acquire([lease]);
    try {
      await task.run(key, this.options.context);
    } catch (err) {
      // The outcome is the task's to record (a sync stores its failure); the job only says it failed.
      this.options.log.warn({ err, task: task.name, ...key }, 'job failed');
      throw err;
    } finally {
      await node?.release([lease]);
    }
  }

  /** Fails the active jobs whose node stopped renewing their lease and sends each of them again. */
  private async reapOrphans(): Promise<void> {
    const boss = this.boss;
    const node = this.options.node;
    if (!boss || !node) return;
    const orphans = await this.options.store.query<{ id: string; name: string; data: JobKey; singleton_key: string | null }>(
      `select j.id::text as id, j.name, j.data, j.singleton_key from ${JOB_SCHEMA}.job j
        where j.state = 'active' and j.name = any($1::text[])
          and j.started_on < now() - $2::int * interval '1 millisecond'
          and not exists (select 1 from cluster_leases l where l.name = 'job:' || j.id::text and l.expires_at > now())`,
      [this.tasks.map((t) => t.name), node.leaseMs],
    );
    for (const orphan of orphans) {
      await boss.fail(orphan.name, orphan.id, { reason: 'its node stopped' });
      // Sent again at once: the interval counts from the orphan's creation, so a tick would wait for it.
      const task = this.tasks.find((t) => t.name === orphan.name);
      await boss.send(orphan.name, orphan.data, {
        ...(orphan.singleton_key === null ? {} : { singletonKey: orphan.singleton_key }),
        retryLimit: 0,
        expireInSeconds: task?.expireInSeconds ?? 900,
      });
    }
    if (orphans.length > 0) {
      this.options.log.warn({ jobs: orphans.length }, 'failed the jobs of a node that stopped and sent them again');
    }
  }

  private async keysOf(task: JobTask<C>): Promise<Array<JobKey & { singletonKey: string }>> {
    const { store } = this.options;
    if (task.per === 'gateway') {
      const rows = await store.query<{ id: string; org_id: string }>(
        'select id, org_id from gateways where deleted_at is null order by id',
      );
      return rows.map((r) => ({ orgId: r.org_id, gatewayId: r.id, singletonKey: r.id }));
    }
    const orgs = await store.query<{ id: string }>('select id from orgs order by id');
    if (task.per === 'global') {
      const first = orgs[0];
      return first ? [{ orgId: first.id, gatewayId: null, singletonKey: 'global' }] : [];
    }
    return orgs.map((r) => ({ orgId: r.id, gatewayId: null, singletonKey: r.id }));
  }

  private async enqueueDue(): Promise<number> {
    const boss = this.boss;
    if (!boss) return 0;
    const { store } = this.options;
    const settings = new Map<string, FirewallSettings>();
    let created = 0;
    for (const task of this.tasks) {
      // Per key: whether a job is queued or running, and when the last one was created (DB clock).
      const rows = await store.query<{ key: string; pending: boolean; age_seconds: number }>(
        `select singleton_key as key,
                bool_or(state in ('created', 'retry', 'active')) as pending,
                extract(epoch from now() - max(created_on))::float8 as age_seconds
           from ${JOB_SCHEMA}.job where name = $1 and singleton_key is not null group by singleton_key`,
        [task.name],
      );
      const last = new Map(rows.map((r) => [r.key, r]));
      for (const key of await this.keysOf(task)) {
        let orgSettings = settings.get(key.orgId);
        if (!orgSettings) {
          orgSettings = await readSettings(store.db, key.orgId);
          settings.set(key.orgId, orgSettings);
        }
        const interval = Math.max(1, Math.round(task.intervalSeconds(orgSettings)));
        const previous = last.get(key.singletonKey);
        if (previous && (previous.pending || previous.age_seconds < interval)) continue;
        const id = await boss.send(
          task.name,
          { orgId: key.orgId, gatewayId: key.gatewayId },
          {
            singletonKey: key.singletonKey,
            singletonSeconds: interval,
            retryLimit: 0,
            expireInSeconds: task.expireInSeconds ?? 900,
          },
        );
        if (id) created++;
      }
    }
    return created;
  }
}
