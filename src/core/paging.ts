/**
 * @module Paging of list queries: `limit` (1–1000, default 100) and `offset` (≥ 0), a 400 naming the field.
 */
import { ValidationError } from '../errors.ts';

export function paging(options: { limit?: number; offset?: number }): { limit: number; offset: number } {
  const limit = options.limit ?? 100;
  const offset = options.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new ValidationError('limit', 'limit must be an integer from 1 to 1000');
  }
  if (!Number.isInteger(offset) || offset < 0)
    throw new ValidationError('offset', 'offset must be a non-negative integer');
  return { limit, offset };
}
