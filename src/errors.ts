/**
 * @module Typed domain errors thrown by the services (identity, audit, secrets, later access/firewall).
 *
 * The HTTP layer maps them to the error envelope `{"error": {code, message, field, request_id}}`:
 *
 * | Class                 | `status` | `code` (stable)                                              | `field` |
 * |-----------------------|----------|--------------------------------------------------------------|---------|
 * | `ValidationError`     | 400      | `validation_failed`                                          | always  |
 * | `AuthenticationError` | 401      | `invalid_credentials`, `totp_required`, `invalid_totp`,      | —       |
 * |                       |          | `session_invalid`, `token_invalid`, `sso_failed`             |         |
 * | `ForbiddenError`      | 403      | `forbidden`                                                  | —       |
 * | `NotFoundError`       | 404      | `not_found`                                                  | —       |
 * | `ConflictError`       | 409      | `conflict`                                                   | maybe   |
 * | `LockoutError`        | 409      | `lockout` (the change cuts Portcullis's path to the gateway)  | always  |
 * | `CapabilityError`     | 422      | `capability_unsupported` (+ `capability`)                    | maybe   |
 * | `RateLimitedError`    | 429      | `rate_limited` (+ `retryAfterSeconds`)                       | —       |
 * | `CapabilityUnavailableError` | 501 | `capability_unavailable` (the vendor's API has no way to do it) | —   |
 * | `DeviceError`         | 502      | `device_error` (+ `vendorCode`, e.g. PFS004)                 | —       |
 * | `ReadOnlyError`       | 409      | `read_only` (the deployment only stages live writes)         | —       |
 * | `LockoutError`        | 409      | `lockout` (a staged change would cut the management path)    | —       |
 * | `PolicyTestsError`    | 409      | `policy_tests` (the gateway's policy tests fail after a change) | —     |
 * | `SelfApprovalError`   | 403      | `self_approval` (an approver deciding their own access request) | —     |
 * | `DecisionLinkError`   | 403      | `decision_link_invalid` (forged, altered or expired signed link) | —     |
 *
 * Messages are safe to show to the client: they never contain a secret or a password.
 * Codes are never reused for a different meaning.
 */

export type DomainErrorCode =
  | 'validation_failed'
  | 'invalid_credentials'
  | 'totp_required'
  | 'invalid_totp'
  | 'session_invalid'
  | 'token_invalid'
  | 'sso_failed'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'lockout'
  | 'capability_unsupported'
  | 'rate_limited'
  | 'capability_unavailable'
  | 'device_error'
  | 'read_only'
  | 'policy_tests'
  | 'self_approval'
  | 'decision_link_invalid';

/** Base class: an expected failure with an HTTP status, a stable code and, when one input is at fault, its field. */
export abstract class DomainError extends Error {
  abstract readonly status: number;
  readonly code: DomainErrorCode;
  readonly field: string | undefined;

  constructor(code: DomainErrorCode, message: string, field?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.field = field;
  }
}

/** Bad input: `field` names the offending input (dotted path for nested values, e.g. `site_ids.2`). */
export class ValidationError extends DomainError {
  readonly status = 400;
  declare readonly field: string;
  constructor(field: string, message: string) {
    super('validation_failed', message, field);
  }
}

type AuthenticationErrorCode =
  | 'invalid_credentials'
  | 'totp_required'
  | 'invalid_totp'
  | 'session_invalid'
  | 'token_invalid'
  | 'sso_failed';

export class AuthenticationError extends DomainError {
  readonly status = 401;
  constructor(code: AuthenticationErrorCode, message: string) {
    super(code, message);
  }
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  constructor(message: string) {
    super('forbidden', message);
  }
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly resource: string;
  constructor(resource: string, id: string) {
    super('not_found', `${resource} ${JSON.stringify(id)} not found`);
    this.resource = resource;
  }
}

export class ConflictError extends DomainError {
  readonly status = 409;
  constructor(message: string, field?: string) {
    super('conflict', message, field);
  }
}

/**
 * The change would cut Portcullis's own path to the gateway's API (its semantic preview's lock-out check is
 * `cut`); applying it anyway needs `override_lockout=true` with a reason, which is audited.
 */
export class LockoutError extends DomainError {
  readonly status = 409;
  declare readonly field: string;
  constructor(message: string) {
    super('lockout', message, 'override_lockout');
  }
}

/**
 * The gateway's policy tests fail (or cannot be decided) on the configuration a change would leave; applying it
 * anyway needs `override_tests=true` with a reason, which is audited.
 */
export class PolicyTestsError extends DomainError {
  readonly status = 409;
  declare readonly field: string;
  constructor(message: string) {
    super('policy_tests', message, 'override_tests');
  }
}

/** The gateway's vendor lacks the operation (its descriptor's capability flag is off); `field` when an input asked for it. */
export class CapabilityError extends DomainError {
  readonly status = 422;
  readonly capability: string;
  constructor(message: string, capability: string, field?: string) {
    super('capability_unsupported', message, field);
    this.capability = capability;
  }
}

export class RateLimitedError extends DomainError {
  readonly status = 429;
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super('rate_limited', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The gateway's vendor API offers no way to do this (e.g. pfRest has no routing-table endpoint): never faked. */
export class CapabilityUnavailableError extends DomainError {
  readonly status = 501;
  readonly capability: string;
  constructor(capability: string, message: string) {
    super('capability_unavailable', message);
    this.capability = capability;
  }
}

/** The device failed or could not be reached; `vendorCode` is the adapter's stable code (PFS000…), the message safe. */
export class DeviceError extends DomainError {
  readonly status = 502;
  readonly vendorCode: string;
  constructor(vendorCode: string, message: string) {
    super('device_error', message);
    this.vendorCode = vendorCode;
  }
}

/** The deployment is read-only for live writes (`PORTCULLIS_READ_ONLY`): nothing may reach a device. */
export class ReadOnlyError extends DomainError {
  readonly status = 409;
  constructor(message: string) {
    super('read_only', message);
  }
}

/** Nobody decides their own access request, whatever groups they are in (docs/access-requests.md). */
export class SelfApprovalError extends DomainError {
  readonly status = 403;
  constructor() {
    super('self_approval', 'you cannot approve or deny your own access request');
  }
}

/** A signed decision link that does not verify (forged, altered, signed by a retired key) or has expired. */
export class DecisionLinkError extends DomainError {
  readonly status = 403;
  declare readonly field: string;
  constructor(
    message: string,
    /** Why, as recorded in the audit entry of the refusal. */
    readonly reason: 'invalid_signature' | 'expired',
  ) {
    super('decision_link_invalid', message, 'token');
  }
}
