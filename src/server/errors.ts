/**
 * @module The HTTP error catalog: every error the API returns has one of these stable codes, and every
 * response carries the one envelope `{"error": {"code", "message", "field", "request_id"}}`.
 *
 * Codes are never reused or renamed; `docs/errors.md` has one row per code, kept in sync by
 * `test/server/errors-catalog.test.ts` (both directions). See ADR 0011.
 */

interface CatalogEntry {
  status: number;
  /** Default message; callers may give a more specific one (never containing a secret). */
  message: string;
}

export const ERROR_CATALOG = {
  PC_ERR_VALIDATION: { status: 400, message: 'The request is invalid.' },
  PC_ERR_MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  PC_ERR_BAD_REQUEST: { status: 400, message: 'The request cannot be processed.' },
  PC_ERR_UNAUTHENTICATED: { status: 401, message: 'Authentication is required.' },
  PC_ERR_INVALID_CREDENTIALS: { status: 401, message: 'Invalid username or password.' },
  PC_ERR_TOTP_REQUIRED: { status: 401, message: 'A TOTP code is required for this account.' },
  PC_ERR_TOTP_INVALID: { status: 401, message: 'The TOTP code is invalid.' },
  PC_ERR_SSO_FAILED: { status: 401, message: 'Single sign-on failed; sign in again.' },
  PC_ERR_LOCAL_LOGIN_DISABLED: {
    status: 403,
    message: 'Sign-in with a password is switched off on this deployment (PORTCULLIS_LOCAL_LOGIN); use single sign-on.',
  },
  PC_ERR_FORBIDDEN: { status: 403, message: 'You do not have permission for this action.' },
  PC_ERR_SELF_APPROVAL: { status: 403, message: 'You cannot approve or deny your own access request.' },
  PC_ERR_DECISION_LINK_INVALID: {
    status: 403,
    message: 'The decision link is not valid: it was altered, was not signed by this server, or has expired.',
  },
  PC_ERR_CSRF: { status: 403, message: 'Missing or invalid X-CSRF-Token header.' },
  PC_ERR_NOT_FOUND: { status: 404, message: 'Not found.' },
  PC_ERR_CONFLICT: { status: 409, message: 'The request conflicts with the current state.' },
  PC_ERR_LOCKOUT: {
    status: 409,
    message: "The change would cut Portcullis's path to the gateway's API; override_lockout with a reason is required.",
  },
  PC_ERR_POLICY_TESTS: {
    status: 409,
    message: "The gateway's policy tests fail on the configuration the change would leave; override_tests with a reason is required.",
  },
  PC_ERR_CAPABILITY_UNSUPPORTED: {
    status: 422,
    message: "The gateway's vendor does not support this operation.",
  },
  PC_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  PC_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported Content-Type; send application/json.' },
  PC_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests; retry later.' },
  PC_ERR_INTERNAL: { status: 500, message: 'Internal server error.' },
  PC_ERR_UNAVAILABLE: { status: 503, message: 'The service is not ready.' },
  PC_ERR_CAPABILITY_UNAVAILABLE: {
    status: 501,
    message: "The gateway's vendor API offers no way to do this; nothing was read or invented.",
  },
  PC_ERR_DEVICE: { status: 502, message: 'The gateway failed or could not be reached.' },
  PC_ERR_READ_ONLY: {
    status: 409,
    message: 'This deployment is read-only for live writes (PORTCULLIS_READ_ONLY); nothing was sent to the device.',
  },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

/** An error meant for the client: its code decides the status, its message is safe to show. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly field: string | undefined;
  /** Seconds, sent as `Retry-After` (429). */
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message?: string, opts: { field?: string; retryAfter?: number } = {}) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = ERROR_CATALOG[code].status;
    this.field = opts.field;
    this.retryAfter = opts.retryAfter;
  }
}

interface ErrorBody {
  error: { code: ErrorCode; message: string; field: string | null; request_id: string };
}

export function errorBody(
  code: ErrorCode,
  message: string,
  field: string | undefined,
  requestId: string,
): ErrorBody {
  return { error: { code, message, field: field ?? null, request_id: requestId } };
}
