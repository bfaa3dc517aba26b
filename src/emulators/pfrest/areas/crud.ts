/**
 * @module The endpoint pair pfRest gives every config list (docs/reference/pfrest-contract.md §6): the singular URL (GET one,
 * POST, PATCH, DELETE one) and the plural URL (GET many, PUT all when the upstream endpoint allows it, DELETE many).
 */
import type { Collection } from '../collection.ts';
import type { Endpoint } from '../endpoint.ts';
import { PfRestError } from '../envelope.ts';
import { applyQuery, page, readList } from '../query.ts';
import type { Row } from '../spec.ts';

export function crudEndpoints(
  one: string,
  many: string,
  collection: Collection<Row>,
  o: { put?: boolean } = {},
): Record<string, Endpoint> {
  return {
    [one]: {
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      fields: collection.fields,
      handle: (ctx) => {
        if (ctx.method === 'GET') return collection.readOne(ctx.data);
        if (ctx.method === 'POST') return collection.create(ctx.data, ctx.controls);
        if (ctx.method === 'PATCH') return collection.update(ctx.data, ctx.controls);
        return collection.deleteOne(ctx.data, ctx.controls);
      },
    },
    [many]: {
      methods: o.put === false ? ['GET', 'DELETE'] : ['GET', 'PUT', 'DELETE'],
      fields: collection.fields,
      handle: (ctx) => {
        if (ctx.method === 'GET') return collection.readMany(ctx.data, ctx.controls);
        if (ctx.method === 'PUT') return collection.replaceAll(ctx.list ?? [], ctx.controls);
        return collection.deleteMany(ctx.data, ctx.controls);
      },
    },
  };
}

/**
 * A list endpoint over rows the box reports (a status model with an internal callable): each row represented with
 * its position as `id` and `fields` in order, then pfRest's query, sort and paging. With `remove`, DELETE takes
 * the matching rows away as the plural delete does (a query or `all=true` is required) and answers them; `remove`
 * may refuse (throw) before it changes anything.
 */
export function listEndpoint(
  fields: readonly string[],
  rows: () => readonly Row[],
  remove?: (kept: Row[], removed: readonly Row[]) => void,
): Endpoint {
  const represented = () => rows().map((row, id) => represent(fields, row, id));
  return {
    methods: remove ? ['GET', 'DELETE'] : ['GET'],
    fields,
    handle: (ctx) => {
      if (ctx.method === 'GET') return readList(represented(), ctx.data, fields, ctx.controls);
      if (Object.keys(ctx.data).length === 0 && !ctx.controls.all) {
        throw new PfRestError(
          400,
          'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS',
          'At least one query parameter is required to delete many objects.',
        );
      }
      const all = represented();
      const matched = page(ctx.controls.all ? all : applyQuery(all, ctx.data, fields), ctx.controls);
      const doomed = new Set(matched.map((r) => r.id));
      if (!ctx.controls.dryRun) {
        remove?.(
          rows().filter((_, i) => !doomed.has(i)),
          rows().filter((_, i) => doomed.has(i)),
        );
      }
      return matched;
    },
  };
}

export function represent(fields: readonly string[], row: Row, id: number): Row & { id: number } {
  const out: Row & { id: number } = { id };
  for (const field of fields) out[field] = row[field] ?? null;
  return out;
}
