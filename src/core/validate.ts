/**
 * @module Input checks shared by the services (identity, access, firewall). Each failure is a `ValidationError` naming the API field
 * (snake_case, as the HTTP API spells it).
 */
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** An id from a URL: anything that is not a UUID cannot exist, so it is a 404, not a 400. */
export function requireIdOrNotFound(resource: string, id: string): string {
  if (!isUuid(id)) throw new NotFoundError(resource, id);
  return id.toLowerCase();
}

/** An id in a request body: malformed is the caller's input error. */
export function requireUuid(field: string, value: unknown): string {
  if (!isUuid(value)) throw new ValidationError(field, `${field} must be a UUID`);
  return value.toLowerCase();
}

/**
 * PostgreSQL stores NUL in neither text nor jsonb, and jsonb refuses an unpaired UTF-16 surrogate (`\ud800`):
 * refusing both at the edge keeps such input a 400 naming the field, never a failed query.
 */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const UNSTORABLE_TEXT = 'must not contain NUL characters or unpaired surrogates';

export function storableText(value: string): boolean {
  return !value.includes('\u0000') && !UNPAIRED_SURROGATE.test(value);
}

export function requireString(
  field: string,
  value: unknown,
  { min = 1, max = 200, pattern, hint }: { min?: number; max?: number; pattern?: RegExp; hint?: string } = {},
): string {
  if (typeof value !== 'string') throw new ValidationError(field, `${field} must be a string`);
  if (!storableText(value)) throw new ValidationError(field, `${field} ${UNSTORABLE_TEXT}`);
  if (value.length < min) {
    throw new ValidationError(
      field,
      min === 1 ? `${field} must not be empty` : `${field} must be at least ${min} characters`,
    );
  }
  if (value.length > max) throw new ValidationError(field, `${field} must be at most ${max} characters`);
  if (pattern && !pattern.test(value))
    throw new ValidationError(field, `${field} ${hint ?? 'has an invalid format'}`);
  return value;
}

export function optionalString(field: string, value: unknown, max = 200): string | undefined {
  if (value === undefined) return undefined;
  return requireString(field, value, { min: 0, max });
}

export function requireBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(field, `${field} must be true or false`);
  return value;
}

export function requireDate(field: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ValidationError(field, `${field} must be a valid date-time`);
  }
  return value;
}

/** Human-facing names (groups, sites, roles, tokens): 1–100 printable characters, trimmed. */
export function requireName(field: string, value: unknown): string {
  const name = requireString(field, value, { max: 100 }).trim();
  if (name === '') throw new ValidationError(field, `${field} must not be blank`);
  if (/\p{Cc}/u.test(name)) throw new ValidationError(field, `${field} must not contain control characters`);
  return name;
}

/** Whether a database error is a unique-constraint violation (23505), on either driver, wrapped or not. */
function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/** Runs a write and turns a unique violation into a `ConflictError` on `field`. */
export async function uniquely<T>(field: string, message: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(message, field);
    throw err;
  }
}
