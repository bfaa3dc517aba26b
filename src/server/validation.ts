/**
 * @module Turns schema validation failures into one `PC_ERR_VALIDATION` error that names the bad field.
 *
 * Request schemas are TypeBox; they are checked by TypeBox's compiler (`TypeBoxValidatorCompiler`), which
 * never coerces the body (so `{"name": 5}` is a wrong type, not the string "5") and never strips unknown
 * properties (so `additionalProperties: false` rejects them). Its errors have the AJV shape, with
 * `requiredProperties` / `additionalProperties` lists where AJV has `missingProperty` / `additionalProperty`;
 * both spellings are read.
 */
import { isUuid, storableText, UNSTORABLE_TEXT } from '../core/validate.ts';
import { ApiError } from './errors.ts';
import { DATE_TIME_INPUT_PATTERN, LINES_PATTERN, ONE_LINE_PATTERN } from './schemas.ts';

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

const DATE_TIME_MESSAGE = 'must be an RFC 3339 date-time in the years 1970–9999, e.g. 2030-01-31T12:00:00Z';

/** The shared field kinds' patterns (schemas.ts), said in words. */
const PATTERN_MESSAGES: ReadonlyMap<string, string> = new Map([
  [ONE_LINE_PATTERN, 'must not contain control characters (including line breaks)'],
  [LINES_PATTERN, 'must not contain control characters other than tab and line breaks'],
  [DATE_TIME_INPUT_PATTERN, DATE_TIME_MESSAGE],
]);

function pointerToField(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function join(parent: string, child: string): string {
  return parent ? `${parent}.${child}` : child;
}

function firstOf(params: Record<string, unknown>, single: string, list: string): string | undefined {
  const one = params[single];
  if (typeof one === 'string') return one;
  const many = params[list];
  return Array.isArray(many) && typeof many[0] === 'string' ? many[0] : undefined;
}

/** The dotted field path and a human message for one schema error; `part` is body / querystring / params. */
function describeSchemaError(error: SchemaError, part: string): { field: string; message: string } {
  const at = pointerToField(error.instancePath);
  const missing = firstOf(error.params, 'missingProperty', 'requiredProperties');
  if (error.keyword === 'required' && missing) {
    const field = join(at, missing);
    return { field, message: `${field} is required` };
  }
  const unknown = firstOf(error.params, 'additionalProperty', 'additionalProperties');
  if (error.keyword === 'additionalProperties' && unknown) {
    const field = join(at, unknown);
    return { field, message: `${field} is not a known field` };
  }
  if (error.keyword === 'boolean' && at) {
    // TypeBox reports an unknown property as "schema is false" at the property's own path.
    return { field: at, message: `${at} is not a known field` };
  }
  const field = at || part;
  const friendly = error.keyword === 'pattern' ? PATTERN_MESSAGES.get(String(error.params.pattern)) : undefined;
  if (error.keyword === 'format' && error.params.format === 'date-time') {
    return { field, message: `${field} ${DATE_TIME_MESSAGE}` };
  }
  return { field, message: `${field} ${friendly ?? error.message ?? 'is invalid'}` };
}

/** Builds the client error for a failed validation (Fastify sets `validation` and `validationContext`). */
export function validationError(errors: readonly SchemaError[], part: string): ApiError {
  const first = errors[0];
  if (!first) return new ApiError('PC_ERR_VALIDATION', `${part} is invalid`, { field: part });
  const { field, message } = describeSchemaError(first, part);
  return new ApiError('PC_ERR_VALIDATION', message, { field });
}

/**
 * Lower-cases every UUID-shaped path parameter before validation, so a route keyed by id sees one spelling
 * whatever the client sent: ids are compared, audited and used as associated data of encrypted columns as text.
 */
export function normalizePathIds(params: unknown): void {
  if (params === null || typeof params !== 'object') return;
  const record = params as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (isUuid(value)) record[key] = value.toLowerCase();
  }
}

/**
 * The dotted path of the first string (or key) in a request part that PostgreSQL cannot store (a NUL character or
 * an unpaired surrogate, src/core/validate.ts `storableText`), or null: refused for every field, whatever its schema.
 */
function unstorableField(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return storableText(value) ? null : path;
  if (value === null || typeof value !== 'object' || depth > 32) return null;
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (!storableText(key)) return at;
    const found = unstorableField(child, at, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** Refuses unstorable text anywhere in the params, query string or body (400 naming the field). */
export function rejectUnstorable(parts: { params: unknown; query: unknown; body: unknown }): void {
  for (const part of ['params', 'query', 'body'] as const) {
    const field = unstorableField(parts[part]);
    if (field !== null) {
      const name = field || (part === 'query' ? 'querystring' : part);
      throw new ApiError('PC_ERR_VALIDATION', `${name} ${UNSTORABLE_TEXT}`, { field: name });
    }
  }
}
