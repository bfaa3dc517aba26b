/**
 * @module TypeBox schemas of the API's resources: the single source for validation, response serialisation
 * (fields not listed here never leave the server) and the OpenAPI components, which keep these `$id`s as names.
 *
 * Request bodies are inline schemas (checked by TypeBox's compiler); responses reference the shared
 * components with `ref('User')`.
 */
import type { FastifyInstance } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { PENDING_STATUSES, type PendingStatus } from '../firewall/pending.ts';
import { USERNAME_MAX_LENGTH, USERNAME_PATTERN } from '../identity/username.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });
export const Uuid = Type.String({ format: 'uuid' });

/** A string that is one of `values`, as a plain JSON Schema `enum` (one schema, not a union of literals). */
export const StringEnum = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });

/*
 * One validator per kind of input text. Control characters (C0, DEL, C1) never belong in names, reasons or
 * search terms: NUL cannot even be stored by PostgreSQL, and the others forge log lines and terminal output.
 * `validation.ts` turns a failure of these patterns into "must not contain control characters".
 */
/** One line of text: no control character at all. */
export const ONE_LINE_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f]*$';
/** Several lines (descriptions, PEM): tab, LF and CR allowed, no other control character. */
export const LINES_PATTERN = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$';
/** Input timestamps: RFC 3339 in the years 1970–9999 (year 0 and the like are not dates anyone means). */
export const DATE_TIME_INPUT_PATTERN = '^(19[7-9][0-9]|[2-9][0-9]{3})-';

type StringLimits = { minLength?: number; maxLength?: number; description?: string };
/** A one-line text input (names, reasons, search terms, filters). */
export const Line = (limits: StringLimits = {}) => Type.String({ ...limits, pattern: ONE_LINE_PATTERN });
/** A multi-line text input (descriptions, certificates). */
export const Lines = (limits: StringLimits = {}) => Type.String({ ...limits, pattern: LINES_PATTERN });
/** A timestamp input (`expires_at`, `from`, `to`). */
export const DateTimeInput = Type.String({ format: 'date-time', pattern: DATE_TIME_INPUT_PATTERN });

/** Usernames: the one rule of src/identity/username.ts (letters, digits and `._@-`). */
export const Username = Type.String({
  minLength: 1,
  maxLength: USERNAME_MAX_LENGTH,
  pattern: USERNAME_PATTERN.source,
});
export const Name = Line({ minLength: 1, maxLength: 100 });
export const Description = Lines({ maxLength: 1000 });
export const Password = Type.String({ minLength: 1, maxLength: 1024 });

/** The sign-in body shared by the admin console and the portal. */
export const LoginBody = Type.Object(
  {
    username: Line({ minLength: 1, maxLength: 200 }),
    password: Password,
    totp_code: Type.Optional(Line({ maxLength: 10 })),
  },
  { additionalProperties: false },
);
export const PermissionCode = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z_]+\\.[a-z_]+$' });

export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      field: Nullable(Type.String()),
      request_id: Type.String(),
    }),
  },
  { $id: 'ErrorEnvelope' },
);

export const User = Type.Object(
  {
    id: Uuid,
    username: Type.String(),
    display_name: Type.String(),
    email: Nullable(Type.String()),
    disabled: Type.Boolean(),
    totp_enabled: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'User' },
);

export const Group = Type.Object(
  { id: Uuid, name: Type.String(), description: Type.String(), created_at: Timestamp, updated_at: Timestamp },
  { $id: 'Group' },
);

export const Site = Type.Object(
  { id: Uuid, name: Type.String(), description: Type.String(), created_at: Timestamp, updated_at: Timestamp },
  { $id: 'Site' },
);

export const Role = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    description: Type.String(),
    builtin: Type.Boolean(),
    permissions: Type.Array(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Role' },
);

export const RoleBinding = Type.Object(
  {
    id: Uuid,
    role_id: Uuid,
    role_name: Type.String(),
    user_id: Nullable(Uuid),
    group_id: Nullable(Uuid),
    site_ids: Nullable(Type.Array(Uuid)),
    created_at: Timestamp,
  },
  { $id: 'RoleBinding' },
);

export const ApiToken = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    prefix: Type.String(),
    permissions: Nullable(Type.Array(Type.String())),
    expires_at: Nullable(Timestamp),
    revoked_at: Nullable(Timestamp),
    last_used_at: Nullable(Timestamp),
    created_at: Timestamp,
  },
  { $id: 'ApiToken' },
);

export const AuditEntry = Type.Object(
  {
    id: Type.Integer(),
    actor_type: Type.String(),
    actor_id: Nullable(Type.String()),
    actor_name: Nullable(Type.String()),
    action: Type.String(),
    target_type: Nullable(Type.String()),
    target_id: Nullable(Type.String()),
    site_id: Nullable(Type.String()),
    before: Type.Unknown(),
    after: Type.Unknown(),
    source_ip: Nullable(Type.String()),
    request_id: Nullable(Type.String()),
    outcome: Type.String(),
    created_at: Timestamp,
  },
  { $id: 'AuditEntry' },
);

export const Permission = Type.Object(
  { code: Type.String(), description: Type.String() },
  { $id: 'Permission' },
);

/** A live write staged (or applied) through src/firewall/pending.ts; payload and before-image redacted. */
export const PendingChange = Type.Object(
  {
    id: Uuid,
    site_id: Uuid,
    device_id: Uuid,
    target_type: Type.String(),
    operation: Type.String(),
    target_vendor_id: Nullable(Type.String()),
    status: Type.Unsafe<PendingStatus>({ type: 'string', enum: [...PENDING_STATUSES] }),
    payload: Type.Unknown(),
    requires_confirmation: Type.Boolean(),
    preview: Type.Unknown(),
    before_image: Type.Unknown(),
    verification: Type.Unknown(),
    override_lockout: Type.Boolean(),
    override_reason: Nullable(Type.String()),
    reverts_id: Nullable(Uuid),
    source_rule_id: Nullable(Uuid),
    place_before: Nullable(Type.String()),
    error: Nullable(
      Type.Object({ code: Type.String(), message: Nullable(Type.String()), vendor_code: Nullable(Type.String()) }),
    ),
    created_by: Nullable(Uuid),
    created_at: Timestamp,
    updated_at: Timestamp,
    claimed_at: Nullable(Timestamp),
    applied_at: Nullable(Timestamp),
    applied_by: Nullable(Uuid),
  },
  { $id: 'PendingChange' },
);

const SHARED = [ErrorEnvelope, User, Group, Site, Role, RoleBinding, ApiToken, AuditEntry, Permission, PendingChange];

/** A reference to a shared component, for response schemas. */
export function ref(id: string): TSchema {
  return Type.Unsafe({ $ref: `${id}#` });
}

export function listOf(id: string, extra: Record<string, TSchema> = {}): TSchema {
  return Type.Object({ items: Type.Array(ref(id)), ...extra });
}

/**
 * Every error a route may answer uses the one envelope. One `4xx` entry (rather than one per status) keeps a
 * single compiled serializer per route, which halves the server's start-up work.
 */
export const ERROR_RESPONSES = { '4xx': ref('ErrorEnvelope'), '5xx': ref('ErrorEnvelope') };

/** A path id. Not checked as a UUID here: an id that cannot exist is a 404 (from the service), not a 400. */
export const PathId = Type.String({ minLength: 1, maxLength: 100, description: 'UUID' });
export const IdParams = Type.Object({ id: PathId }, { additionalProperties: false });

export const Paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
};

export function registerSharedSchemas(app: FastifyInstance): void {
  for (const schema of SHARED) app.addSchema(schema);
}
