/**
 * @module The one username rule, used by the services and by the HTTP schemas (src/server/schemas.ts): 1–64
 * characters, letters, digits and `. _ @ -`, starting with a letter or digit, stored lower-case. `@` is allowed
 * so e-mail-style logins work (docs/adr/0112-one-source-per-setting.md).
 */
import { requireString } from '../core/validate.ts';

export const USERNAME_MAX_LENGTH = 64;
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;

/** Lower-case login name, or a 400 naming `field`. */
export function normalizeUsername(value: unknown, field = 'username'): string {
  return requireString(field, value, {
    max: USERNAME_MAX_LENGTH,
    pattern: USERNAME_PATTERN,
    hint: 'may contain only letters, digits and . _ @ - and must start with a letter or digit',
  }).toLowerCase();
}
