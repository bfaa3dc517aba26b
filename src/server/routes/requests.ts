/**
 * @module `/api/v1/access/requests`: access requests on knocs that require approval (docs/access-requests.md).
 * Being signed in is enough to call these routes; what one sees and may decide is the request's own rule:
 * requests of the sites where one holds `access.view`, one's own, and those of knocs whose approver group one
 * is in. Deciding needs membership of the request's approver group and never being its requester.
 * `/api/v1/access/request-links/decide` is public: the signed link is the credential (ADR 0231).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  type AccessRequestView,
  decideAccessRequest,
  decideByLink,
  getAccessRequest,
  listAccessRequests,
  type RequestViewer,
} from '../../access/service/requests.ts';
import { ctxOf } from '../context.ts';
import { principalOf, requirePortalUse, siteFilter } from '../plugins/access.ts';
import { ERROR_RESPONSES, IdParams, Lines, Paging, Uuid } from '../schemas.ts';
import { emptyBodyIsObject, Nullable, Timestamp } from './gateways.ts';

const tags = ['access'];
const authenticated = { auth: 'authenticated' } as const;

const DecisionSchema = Type.Object({
  approver_id: Nullable(Uuid),
  approver_name: Type.String(),
  decision: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
  comment: Nullable(Type.String()),
  via: Type.Union([Type.Literal('console'), Type.Literal('link')]),
  created_at: Timestamp,
});

const RequestStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('approved'),
  Type.Literal('denied'),
  Type.Literal('expired'),
]);

export const AccessRequestSchema = Type.Object({
  id: Uuid,
  knoc_id: Uuid,
  knoc_name: Type.String(),
  site_id: Uuid,
  requester_id: Nullable(Uuid),
  requester_name: Nullable(Type.String()),
  ip: Type.String(),
  ttl_seconds: Type.Integer(),
  justification: Nullable(Type.String()),
  status: RequestStatus,
  approvals_required: Type.Integer(),
  approvals: Type.Integer(),
  created_at: Timestamp,
  expires_at: Timestamp,
  decided_at: Nullable(Timestamp),
  grant_id: Nullable(Uuid),
  decisions: Type.Array(DecisionSchema),
});

/** The API body of a request view (decisions included). */
export function requestBody(view: AccessRequestView) {
  return {
    id: view.id,
    knoc_id: view.knocId,
    knoc_name: view.knocName,
    site_id: view.siteId,
    requester_id: view.requesterId,
    requester_name: view.requesterName,
    ip: view.ip,
    ttl_seconds: view.ttlSeconds,
    justification: view.justification,
    status: view.status,
    approvals_required: view.approvalsRequired,
    approvals: view.approvals,
    created_at: view.createdAt.toISOString(),
    expires_at: view.expiresAt.toISOString(),
    decided_at: view.decidedAt?.toISOString() ?? null,
    grant_id: view.grantId,
    decisions: view.decisions.map((d) => ({
      approver_id: d.approverId,
      approver_name: d.approverName,
      decision: d.decision,
      comment: d.comment,
      via: d.via,
      created_at: d.createdAt.toISOString(),
    })),
  };
}

function viewerOf(request: FastifyRequest): RequestViewer {
  return { userId: principalOf(request).userId, scope: siteFilter(request, 'access.view') };
}

const CommentBody = Type.Optional(
  Type.Object({ comment: Type.Optional(Lines({ maxLength: 1_000 })) }, { additionalProperties: false }),
);

export const requestRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  // A token limited to a permission list must hold access.grant to take part in requests (as at the portal).
  app.addHook('onRequest', async (request) => {
    if (request.principal) requirePortalUse(request);
  });

  app.get(
    '/api/v1/access/requests',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'List access requests you may see (newest first): your sites’, your own, those you approve',
        querystring: Type.Object(
          {
            status: Type.Optional(RequestStatus),
            knoc_id: Type.Optional(Uuid),
            requester_id: Type.Optional(Uuid),
            awaiting_me: Type.Optional(Type.Boolean()),
            mine: Type.Optional(Type.Boolean()),
            ...Paging,
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(AccessRequestSchema) }), ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { status, knoc_id, requester_id, awaiting_me, mine, ...page } = request.query;
      const items = await listAccessRequests(ctxOf(request), {
        ...page,
        viewer: viewerOf(request),
        ...(status ? { status } : {}),
        ...(knoc_id ? { knocId: knoc_id } : {}),
        ...(requester_id ? { requesterId: requester_id } : {}),
        ...(awaiting_me ? { awaitingMe: true } : {}),
        ...(mine ? { mine: true } : {}),
      });
      return { items: items.map(requestBody) };
    },
  );

  app.get(
    '/api/v1/access/requests/:id',
    {
      config: authenticated,
      schema: {
        tags,
        summary: 'Get an access request with its decisions and resulting grant',
        params: IdParams,
        response: { 200: AccessRequestSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => requestBody(await getAccessRequest(ctxOf(request), request.params.id, viewerOf(request))),
  );

  for (const decision of ['approve', 'deny'] as const) {
    app.post(
      `/api/v1/access/requests/:id/${decision}`,
      {
        ...emptyBodyIsObject,
        config: authenticated,
        schema: {
          tags,
          summary:
            decision === 'approve'
              ? 'Approve an access request (the last approval needed starts the grant)'
              : 'Deny an access request',
          params: IdParams,
          body: CommentBody,
          response: { 200: AccessRequestSchema, ...ERROR_RESPONSES },
        },
      },
      async (request) => {
        const ctx = ctxOf(request);
        // Visible first: a request one may not see is a 404, not a 403 that confirms it exists.
        await getAccessRequest(ctx, request.params.id, viewerOf(request));
        const principal = principalOf(request);
        const view = await decideAccessRequest(
          ctx,
          request.params.id,
          {
            approver: { id: principal.userId, name: principal.username },
            decision,
            comment: request.body?.comment,
            via: 'console',
          },
          app.access,
        );
        return requestBody(view);
      },
    );
  }

  app.post(
    '/api/v1/access/request-links/decide',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Decide an access request with a signed link from an access.request.created webhook',
        body: Type.Object(
          {
            token: Type.String({ minLength: 1, maxLength: 2_000, pattern: '^[A-Za-z0-9_.-]+$' }),
            comment: Type.Optional(Lines({ maxLength: 1_000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: AccessRequestSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      requestBody(await decideByLink(ctxOf(request), request.body.token, request.body.comment, app.access)),
  );
};
