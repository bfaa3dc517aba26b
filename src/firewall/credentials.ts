/**
 * @module Gateway credentials, per vendor: each vendor's descriptor names its credential shape
 * (src/adapters/registry.ts); this module validates request input against it (400 naming the field) and
 * turns credentials into the one sealed column (`gateways.api_key_enc`) and back.
 *
 * Storage: a single-key shape (`api_key`) seals the key itself, as gateways always have; other shapes seal a
 * JSON object of their fields. Nothing here ever puts a credential into a message.
 */
import {
  CREDENTIAL_FIELDS,
  CREDENTIAL_SHAPES,
  type CredentialField,
  type Credentials,
  type VendorDescriptor,
} from '../adapters/registry.ts';
import { requireString } from '../core/validate.ts';
import { ValidationError } from '../errors.ts';

const MAX_LENGTH: Readonly<Record<CredentialField, number>> = {
  api_key: 1024,
  api_secret: 1024,
  username: 256,
  password: 1024,
  ssh_private_key: 16 * 1024,
};

/** Keys and secrets travel as HTTP header text or tokens: printable ASCII only. */
const TOKEN_FIELDS: ReadonlySet<CredentialField> = new Set(['api_key', 'api_secret']);

function fieldValue(field: CredentialField, value: unknown): string {
  const text = requireString(field, value, { max: MAX_LENGTH[field] });
  if (text.trim() === '') throw new ValidationError(field, `${field} must not be blank`);
  // A control character (or, in a key, any non-ASCII one) cannot be sent in a request header; refusing it here
  // keeps a broken credential from ever being stored (docs/adr/0111-vendor-registry.md).
  if (TOKEN_FIELDS.has(field) && !/^[\x20-\x7e]+$/.test(text)) {
    throw new ValidationError(field, `${field} must contain printable ASCII characters only`);
  }
  if (field !== 'ssh_private_key' && [...text].some((c) => c < ' ' || c === '\u007f')) {
    throw new ValidationError(field, `${field} must not contain control characters`);
  }
  if (field === 'ssh_private_key' && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new ValidationError(field, 'ssh_private_key must be a PEM or OpenSSH private key');
  }
  return text;
}

/**
 * The credentials of `vendor` from request input. `saved` (a PATCH or a test override) supplies the fields
 * the input leaves out; without it every field of the shape is required. A credential field of another shape
 * is refused rather than ignored.
 */
export function credentialsFromInput(
  vendor: VendorDescriptor,
  input: Readonly<Record<string, unknown>>,
  saved?: Credentials,
): Credentials {
  const fields: readonly CredentialField[] = CREDENTIAL_SHAPES[vendor.credentials];
  for (const field of CREDENTIAL_FIELDS) {
    if (input[field] !== undefined && !fields.includes(field)) {
      throw new ValidationError(
        field,
        `vendor ${vendor.id} takes no ${field} (its credentials are ${fields.join(', ')})`,
      );
    }
  }
  const out: Partial<Record<CredentialField, string>> = {};
  for (const field of fields) {
    const given = input[field];
    if (given !== undefined) out[field] = fieldValue(field, given);
    else if (saved?.[field] !== undefined) out[field] = saved[field];
    else throw new ValidationError(field, `${field} is required for vendor ${vendor.id}`);
  }
  const problem = vendor.checkCredentials?.(out);
  if (problem) throw new ValidationError(problem.field, problem.message);
  return out;
}

/** Whether the input carries any credential field (a PATCH that changes the credentials). */
export function hasCredentialInput(input: Readonly<Record<string, unknown>>): boolean {
  return CREDENTIAL_FIELDS.some((field) => input[field] !== undefined);
}

/** The plaintext to seal for `credentials` of `vendor`'s shape. */
export function encodeCredentials(vendor: VendorDescriptor, credentials: Credentials): string {
  const fields = CREDENTIAL_SHAPES[vendor.credentials];
  if (fields.length === 1) return credentials[fields[0]] ?? '';
  return JSON.stringify(Object.fromEntries(fields.map((field) => [field, credentials[field] ?? ''])));
}

/** Credentials from an opened column; a shape mismatch (vendor changed without new credentials) is empty. */
export function decodeCredentials(vendor: VendorDescriptor, plaintext: string): Credentials {
  const fields = CREDENTIAL_SHAPES[vendor.credentials];
  if (fields.length === 1) return { [fields[0]]: plaintext };
  try {
    const parsed: unknown = JSON.parse(plaintext);
    if (parsed === null || typeof parsed !== 'object') return {};
    const record = parsed as Record<string, unknown>;
    return Object.fromEntries(
      fields.filter((field) => typeof record[field] === 'string').map((field) => [field, record[field]]),
    );
  } catch {
    return {};
  }
}

