/**
 * @module `GET /api/v1/audit`: the audit log, newest first, with filters and keyset paging (`cursor` =
 * the previous page's `next_cursor`). A site-limited reader sees only entries of their sites.
 * `GET /api/v1/audit/syslog` and `POST /api/v1/audit/syslog/test`: the syslog copy of the audit log
 * (docs/audit.md) — its target's state, and a test event recorded and sent at once.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { query } from '../../audit/query.ts';
import { record } from '../../audit/record.ts';
import { AuditSyslogForwarder } from '../../audit/syslog-forwarder.ts';
import { SyslogSender } from '../../audit/syslog.ts';
import type { SyslogSettings } from '../../config.ts';
import { ConflictError } from '../../errors.ts';
import { ctxOf } from '../context.ts';
import { siteFilter } from '../plugins/access.ts';
import { DateTimeInput, ERROR_RESPONSES, Line, ref, Uuid } from '../schemas.ts';
import { toApi } from '../views.ts';

const Query = Type.Object(
  {
    actor_id: Type.Optional(Line({ maxLength: 100 })),
    actor_type: Type.Optional(
      Type.Union(['user', 'token', 'system', 'anonymous'].map((v) => Type.Literal(v))),
    ),
    action: Type.Optional(
      Line({ maxLength: 100, description: 'exact action, or a prefix such as user.*' }),
    ),
    target_type: Type.Optional(Line({ maxLength: 100 })),
    target_id: Type.Optional(Line({ maxLength: 100 })),
    site_id: Type.Optional(Uuid),
    outcome: Type.Optional(
      Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
    ),
    from: Type.Optional(DateTimeInput),
    to: Type.Optional(DateTimeInput),
    cursor: Type.Optional(Type.Integer({ minimum: 1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  { additionalProperties: false },
);

const Page = Type.Object({
  items: Type.Array(ref('AuditEntry')),
  next_cursor: Type.Union([Type.Integer(), Type.Null()]),
});

const SyslogStatus = Type.Object(
  {
    configured: Type.Boolean(),
    target: Type.Union([Type.String(), Type.Null()], { description: 'udp://, tcp:// or tls://host:port' }),
    connected: Type.Boolean({ description: 'TCP/TLS: a stream to the collector is open; UDP: the socket exists' }),
    forwarding: Type.Boolean({
      description: 'this server sends the audit rows now: it holds the audit-syslog lease (one server of a cluster does)',
    }),
    queued: Type.Integer({ description: 'messages waiting for the collector (bounded; the oldest are dropped)' }),
    sent: Type.Integer(),
    dropped: Type.Integer(),
    last_error: Type.Union([Type.String(), Type.Null()]),
    last_error_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    last_sent_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'AuditSyslogStatus' },
);

/** The sender and forwarder for a configured target; the CA file is read here, so a bad path stops the start. */
function createForwarder(
  settings: SyslogSettings,
  db: Parameters<typeof query>[0],
  log: { warn: (obj: object, msg: string) => void },
): AuditSyslogForwarder {
  let ca: string | undefined;
  if (settings.caFile !== null) {
    try {
      ca = readFileSync(settings.caFile, 'utf8');
    } catch (error) {
      throw new Error(`PORTCULLIS_SYSLOG_CA_FILE: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const sender = new SyslogSender(
    { ...settings.target, ...(ca !== undefined ? { ca } : {}) },
    { onError: (message) => log.warn({ syslog: sender.status().target }, `audit syslog: ${message}`) },
  );
  return new AuditSyslogForwarder(db, sender, {
    hostname: hostname(),
    facility: settings.facility,
    onError: (err) => log.warn({ err }, 'audit syslog: reading new audit entries failed; retrying'),
  });
}

export const auditRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const settings = app.config.syslog;
  const forwarder = settings === null ? null : createForwarder(settings, app.store.db, app.log);
  if (forwarder !== null) {
    // The access runtime (registered later) owns this node's leases: one node of a cluster forwards (ADR 0237).
    app.addHook('onReady', async () => forwarder.start(app.hasDecorator('access') ? app.access.node : undefined));
    app.addHook('onClose', async () => forwarder.stop());
  }
  const status = () => {
    const s = forwarder?.sender.status();
    return {
      configured: s !== undefined,
      target: s?.target ?? null,
      connected: s?.connected ?? false,
      forwarding: forwarder?.forwarding ?? false,
      queued: s?.queued ?? 0,
      sent: s?.sent ?? 0,
      dropped: s?.dropped ?? 0,
      last_error: s?.lastError ?? null,
      last_error_at: s?.lastErrorAt ?? null,
      last_sent_at: s?.lastSentAt ?? null,
    };
  };

  app.get(
    '/api/v1/audit/syslog',
    {
      config: { permission: 'audit.view' },
      schema: {
        tags: ['audit'],
        summary: 'State of the syslog copy of the audit log (target, queue, last error)',
        response: { 200: SyslogStatus, ...ERROR_RESPONSES },
      },
    },
    async () => status(),
  );

  app.post(
    '/api/v1/audit/syslog/test',
    {
      config: { permission: 'audit.view' },
      schema: {
        tags: ['audit'],
        summary: 'Record an audit.syslog_test event and send it to the syslog target at once',
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 200: SyslogStatus, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      if (forwarder === null) throw new ConflictError('no syslog target: set PORTCULLIS_SYSLOG_URL');
      const ctx = ctxOf(request);
      await record(ctx.db, { orgId: ctx.orgId, actor: ctx.actor, action: 'audit.syslog_test', targetType: 'syslog', targetId: status().target });
      await forwarder.poll();
      await forwarder.sender.drain(1_000);
      return status();
    },
  );

  app.get(
    '/api/v1/audit',
    {
      config: { permission: 'audit.view' },
      schema: {
        tags: ['audit'],
        summary: 'Read the audit log',
        querystring: Query,
        response: { 200: Page, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const q = request.query;
      const sites = siteFilter(request, 'audit.view');
      const ctx = ctxOf(request);
      const page = await query(ctx.db, ctx.orgId, {
        ...(q.actor_id !== undefined ? { actorId: q.actor_id } : {}),
        ...(q.actor_type !== undefined ? { actorType: q.actor_type } : {}),
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.target_type !== undefined ? { targetType: q.target_type } : {}),
        ...(q.target_id !== undefined ? { targetId: q.target_id } : {}),
        ...(q.site_id !== undefined ? { siteId: q.site_id } : {}),
        ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
        ...(q.from !== undefined ? { from: new Date(q.from) } : {}),
        ...(q.to !== undefined ? { to: new Date(q.to) } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(sites === 'all' ? {} : { siteIds: sites }),
      });
      return { items: page.items.map(toApi), next_cursor: page.nextCursor };
    },
  );
};
