/**
 * @module One error envelope for every failure: API errors, schema validation, body parsing, unknown
 * routes, domain errors from the services (`src/errors.ts`) and anything unexpected (a generic 500 that hides the cause
 * from the client but logs it with the request id). See ADR 0011 and docs/errors.md.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type DomainErrorCode, RateLimitedError } from '../../errors.ts';
import { ApiError, type ErrorCode, errorBody } from '../errors.ts';
import { validationError } from '../validation.ts';

/** Domain error codes (src/errors.ts) mapped to catalog codes; the services stay HTTP-free. */
const DOMAIN_ERRORS: Record<DomainErrorCode, ErrorCode> = {
  validation_failed: 'PC_ERR_VALIDATION',
  invalid_credentials: 'PC_ERR_INVALID_CREDENTIALS',
  totp_required: 'PC_ERR_TOTP_REQUIRED',
  invalid_totp: 'PC_ERR_TOTP_INVALID',
  session_invalid: 'PC_ERR_UNAUTHENTICATED',
  token_invalid: 'PC_ERR_UNAUTHENTICATED',
  sso_failed: 'PC_ERR_SSO_FAILED',
  forbidden: 'PC_ERR_FORBIDDEN',
  not_found: 'PC_ERR_NOT_FOUND',
  conflict: 'PC_ERR_CONFLICT',
  lockout: 'PC_ERR_LOCKOUT',
  policy_tests: 'PC_ERR_POLICY_TESTS',
  capability_unsupported: 'PC_ERR_CAPABILITY_UNSUPPORTED',
  rate_limited: 'PC_ERR_RATE_LIMITED',
  capability_unavailable: 'PC_ERR_CAPABILITY_UNAVAILABLE',
  device_error: 'PC_ERR_DEVICE',
  read_only: 'PC_ERR_READ_ONLY',
  self_approval: 'PC_ERR_SELF_APPROVAL',
  decision_link_invalid: 'PC_ERR_DECISION_LINK_INVALID',
};

/** Fastify's own client errors (body parser, content type) mapped to catalog codes. */
const FASTIFY_ERRORS: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PC_ERR_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'PC_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'PC_ERR_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'PC_ERR_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'PC_ERR_BAD_REQUEST',
};

function fromDomainError(err: DomainError): ApiError {
  // Service messages do not always repeat the field; the client should not have to read `field` to see it.
  const message =
    err.field && !err.message.includes(err.field) ? `${err.field}: ${err.message}` : err.message;
  return new ApiError(DOMAIN_ERRORS[err.code], message, {
    ...(err.field !== undefined ? { field: err.field } : {}),
    ...(err instanceof RateLimitedError ? { retryAfter: err.retryAfterSeconds } : {}),
  });
}

function toApiError(err: FastifyError): ApiError | null {
  if (err instanceof ApiError) return err;
  if (Array.isArray(err.validation)) {
    return validationError(err.validation, err.validationContext ?? 'body');
  }
  if (err instanceof DomainError) return fromDomainError(err);
  const known = err.code ? FASTIFY_ERRORS[err.code] : undefined;
  if (known) return new ApiError(known);
  // JSON.parse failures surface as a SyntaxError with status 400 from the content-type parser.
  if (err instanceof SyntaxError && err.statusCode === 400) return new ApiError('PC_ERR_MALFORMED_JSON');
  if (err.statusCode === 429) return new ApiError('PC_ERR_RATE_LIMITED');
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new ApiError('PC_ERR_BAD_REQUEST', 'The request cannot be processed.');
  }
  return null;
}

function sendApiError(request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.retryAfter !== undefined)
    reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfter))));
  return reply.code(error.statusCode).send(errorBody(error.code, error.message, error.field, request.id));
}

/**
 * Fastify's router refusals, which happen before any route or hook (a path parameter over `maxParamLength`,
 * a URL that does not decode): the one envelope, never Fastify's own body (it echoes the path).
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const apiError =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ApiError('PC_ERR_NOT_FOUND', 'Not found: a path parameter is longer than any id.')
      : new ApiError('PC_ERR_BAD_REQUEST', 'The request URL is not valid.');
  request.log.info({ code: apiError.code }, 'request rejected');
  sendApiError(request, reply, apiError);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const apiError = toApiError(err);
    if (apiError) {
      request.log.info({ code: apiError.code, field: apiError.field }, 'request rejected');
      return sendApiError(request, reply, apiError);
    }
    request.log.error({ err }, 'request failed');
    return sendApiError(request, reply, new ApiError('PC_ERR_INTERNAL'));
  });

  app.setNotFoundHandler((request, reply) =>
    sendApiError(
      request,
      reply,
      new ApiError('PC_ERR_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}
