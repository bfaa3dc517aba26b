/**
 * @module One username rule (ADR 0112): the HTTP schema and the service use the same pattern, so a name the
 * service accepts (e-mail style, with `@`) is not refused by the API, and the other way round.
 */
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { normalizeUsername, USERNAME_MAX_LENGTH } from '../../src/identity/username.ts';
import { Username } from '../../src/server/schemas.ts';

const accepted = (name: string) => {
  try {
    normalizeUsername(name);
    return true;
  } catch (err) {
    if (err instanceof ValidationError) return false;
    throw err;
  }
};

describe('the username rule', () => {
  it.each([
    ['ana', true],
    ['ana@example.org', true],
    ['Ana.Maria_2-x', true],
    ['@ana', false],
    ['.ana', false],
    ['ana maria', false],
    ['ana\u0000', false],
    ['', false],
    ['a'.repeat(USERNAME_MAX_LENGTH), true],
    ['a'.repeat(USERNAME_MAX_LENGTH + 1), false],
  ])('%j: service %s, and the HTTP schema agrees', (name, ok) => {
    expect(accepted(name)).toBe(ok);
    expect(Value.Check(Username, name)).toBe(ok);
  });

  it('stores the name lower-case and names the field on failure', () => {
    expect(normalizeUsername('Ana@Example.org')).toBe('ana@example.org');
    expect(() => normalizeUsername('@x', 'owner_name')).toThrow(expect.objectContaining({ field: 'owner_name' }));
  });
});
