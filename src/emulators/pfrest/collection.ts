/**
 * @module Generic config-list CRUD with pfRest semantics (docs/reference/pfrest-contract.md §6): ids are list positions that
 * shift, POST appends then honours `placement` and `sort_by`, PATCH merges at field level with `append`/`remove`
 * on array fields, PUT replaces all atomically, DELETE plural needs a query or `all=true`.
 */

import type { RequestData } from './decode.ts';
import { PfRestError } from './envelope.ts';
import { applyQuery, type Controls, page, readList, sortRows, valueText } from './query.ts';

export interface CollectionModel<T extends Record<string, unknown>> {
  fields: readonly string[];
  /** Array-valued fields, for PATCH `append`/`remove`. */
  arrayFields: readonly string[];
  /** Subsystem marked dirty by writes (`aliases`), or null (rules mark nothing, §6.1). */
  subsystem: string | null;
  /** Fewest objects the list may hold (`many_minimum`). */
  minimum: number;
  /**
   * The model's own `sort_by` (with `sort_order`, `sort_flags`): every create, update and replace re-sorts the
   * list by it, moving ids (`Core/Model.inc:1891-1930`, called at `:2242`, `:2330`, `:2497`).
   */
  sort?: Pick<Controls, 'sortBy' | 'sortOrder' | 'sortFlags'>;
  items(): T[];
  replace(items: T[]): void;
  /** Validates a full candidate; `selfIndex`/`original` are set on PATCH; `context` is the list it is checked against. */
  validate(
    candidate: Record<string, unknown>,
    opts: { selfIndex: number | null; original: T | null; context: readonly T[] },
  ): T;
  represent(item: T, id: number): Record<string, unknown> & { id: number };
}

export interface WriteEffects {
  /** Marks the model's subsystem dirty. */
  markDirty(subsystem: string): void;
  /** Runs the model's apply (`apply:true`) and clears its own subsystem. */
  apply(subsystem: string | null, async: boolean): Promise<void>;
  persist(): void;
}

function resolveId(data: RequestData, count: number, missing: () => PfRestError): number {
  if (!('id' in data) || data.id === undefined) throw missing();
  if (data.id === null)
    throw new PfRestError(500, 'MODEL_ID_REQUIRED_FOR_REFRESH', 'An ID is required to refresh this object.');
  const id = data.id;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= count) {
    throw new PfRestError(404, 'MODEL_OBJECT_NOT_FOUND', `Object with ID '${valueText(id)}' does not exist.`);
  }
  return id;
}

const requiresId = () => new PfRestError(400, 'MODEL_REQUIRES_ID', "Field 'id' is required.");

export class Collection<T extends Record<string, unknown>> {
  constructor(
    private readonly model: CollectionModel<T>,
    private readonly effects: WriteEffects,
  ) {}

  get fields(): readonly string[] {
    return this.model.fields;
  }

  readOne(data: RequestData): unknown {
    const items = this.model.items();
    const id = resolveId(data, items.length, requiresId);
    return this.model.represent(items[id] as T, id);
  }

  readMany(query: RequestData, controls: Controls): unknown {
    const rows = this.model.items().map((item, id) => this.model.represent(item, id));
    return readList(rows, query, this.model.fields, controls);
  }

  /** Places `item` (already at the end) per `placement` then `sort_by`; returns its final id. */
  private position(items: T[], item: T, controls: Controls): { items: T[]; id: number } {
    let list = items;
    if (controls.placement !== null) {
      const without = list.filter((x) => x !== item);
      const at = Math.min(Math.max(0, controls.placement), without.length);
      list = [...without.slice(0, at), item, ...without.slice(at)];
    }
    const sort = controls.sortBy !== null ? controls : this.model.sort;
    if (sort !== undefined) list = sortRows(list, sort);
    return { items: list, id: list.indexOf(item) };
  }

  private async commit(items: T[], controls: Controls): Promise<void> {
    this.model.replace(items);
    if (this.model.subsystem !== null) this.effects.markDirty(this.model.subsystem);
    this.effects.persist();
    if (controls.apply) await this.effects.apply(this.model.subsystem, controls.async);
  }

  async create(data: RequestData, controls: Controls): Promise<unknown> {
    const items = this.model.items();
    const { id: _ignored, ...candidate } = data;
    const item = this.model.validate(candidate, { selfIndex: null, original: null, context: items });
    const placed = this.position([...items, item], item, controls);
    if (!controls.dryRun) await this.commit(placed.items, controls);
    return this.model.represent(item, placed.id);
  }

  async update(data: RequestData, controls: Controls): Promise<unknown> {
    const items = this.model.items();
    const id = resolveId(data, items.length, requiresId);
    const original = items[id] as T;
    const merged: Record<string, unknown> = { ...original };
    for (const field of this.model.fields) {
      if (!(field in data)) continue;
      const sent = data[field];
      const stored = original[field];
      const isArrayField = this.model.arrayFields.includes(field);
      if (
        isArrayField &&
        Array.isArray(sent) &&
        Array.isArray(stored) &&
        (controls.append || controls.remove)
      ) {
        // An array equal to the stored one is left untouched (§6 PATCH).
        if (JSON.stringify(sent) === JSON.stringify(stored)) continue;
        const storedItems: unknown[] = stored;
        const sentItems: unknown[] = sent;
        merged[field] = controls.append
          ? [...storedItems, ...sentItems]
          : storedItems.filter((v) => !sentItems.includes(v));
      } else {
        merged[field] = sent;
      }
    }
    const item = this.model.validate(merged, { selfIndex: id, original, context: items });
    const next = items.map((x, i) => (i === id ? item : x));
    const placed = this.position(next, item, controls);
    if (!controls.dryRun) await this.commit(placed.items, controls);
    return this.model.represent(item, placed.id);
  }

  async deleteOne(data: RequestData, controls: Controls): Promise<unknown> {
    const items = this.model.items();
    // A missing id on DELETE reaches `from_representation(id: null)` → 500 (§6, code quirk).
    const id = resolveId(
      data,
      items.length,
      () =>
        new PfRestError(500, 'MODEL_ID_REQUIRED_FOR_REFRESH', 'An ID is required to refresh this object.'),
    );
    if (items.length - 1 < this.model.minimum) {
      throw new PfRestError(
        403,
        'MODEL_MANY_MINIMUM_REACHED',
        `At least ${this.model.minimum} object(s) must exist.`,
      );
    }
    const removed = this.model.represent(items[id] as T, id);
    if (!controls.dryRun)
      await this.commit(
        items.filter((_, i) => i !== id),
        controls,
      );
    return removed;
  }

  async replaceAll(list: unknown[], controls: Controls): Promise<unknown> {
    if (list.length < this.model.minimum) {
      throw new PfRestError(
        400,
        'MODEL_REPLACE_ALL_MINIMUM_NOT_MET',
        `At least ${this.model.minimum} object(s) are required.`,
      );
    }
    const next: T[] = [];
    for (const raw of list) {
      const { id: _ignored, ...candidate } = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<
        string,
        unknown
      >;
      next.push(this.model.validate(candidate, { selfIndex: null, original: null, context: next }));
    }
    const sorted = this.model.sort === undefined ? next : sortRows(next, this.model.sort);
    if (!controls.dryRun) await this.commit(sorted, { ...controls, apply: false });
    return sorted.map((item, id) => this.model.represent(item, id));
  }

  async deleteMany(query: RequestData, controls: Controls): Promise<unknown> {
    if (Object.keys(query).length === 0 && !controls.all) {
      throw new PfRestError(
        400,
        'MODEL_DELETE_MANY_REQUIRES_QUERY_PARAMS',
        'At least one query parameter is required to delete many objects.',
      );
    }
    const items = this.model.items();
    const rows = items.map((item, id) => this.model.represent(item, id));
    const matched = page(controls.all ? rows : applyQuery(rows, query, this.model.fields), controls);
    const doomed = new Set(matched.map((r) => r.id));
    if (!controls.dryRun && doomed.size > 0) {
      await this.commit(
        items.filter((_, i) => !doomed.has(i)),
        { ...controls, apply: false },
      );
    }
    return matched;
  }
}
