/**
 * @module Declarative pfRest models for the emulator's management areas (docs/reference/pfrest-emulator.md §6):
 * each field as the upstream model declares it (type, required, default, choices, allow_null, conditions,
 * many, minimum/maximum, maximum_length, unique, read_only), validated in pfRest's order and represented in
 * declaration order (`Core/Field.inc:410-480`, `Core/Model.inc:1541-1575`, `:1139-1152`).
 */
import type { CollectionModel } from './collection.ts';
import { PfRestError } from './envelope.ts';

export type Row = Record<string, unknown>;

export interface FieldSpec {
  name: string;
  type: 'string' | 'boolean' | 'integer';
  many?: boolean;
  required?: boolean;
  /** The default when the field is absent (pfRest requires a default, `required` or `allow_null`). */
  default?: unknown;
  allowNull?: boolean;
  /** `allow_empty`: '' (or an empty list) is a valid value. */
  allowEmpty?: boolean;
  choices?: readonly string[];
  readOnly?: boolean;
  /** `editable: false`: an update sending another value than the stored one is refused (`Core/Field.inc:517-534`). */
  notEditable?: boolean;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  /** Most entries a `many` field takes (`many_maximum`). */
  manyMaximum?: number;
  unique?: boolean;
  /** Validated (and stored) only when every other field named here holds one of the listed values. */
  conditions?: Record<string, readonly unknown[]>;
  /** The field's own validators, after the generic checks; throw a PfRestError. */
  check?: (value: unknown, row: Row) => void;
}

export interface ModelSpec {
  fields: readonly FieldSpec[];
  /** Model-level validation (validate_extra) after every field passed. */
  extra?: (row: Row, context: readonly Row[], selfIndex: number | null) => void;
}

const fail = (id: string, message: string) => new PfRestError(400, id, message);

function typeOk(spec: FieldSpec, v: unknown): boolean {
  if (spec.type === 'string') return typeof v === 'string';
  if (spec.type === 'boolean') return typeof v === 'boolean';
  return typeof v === 'number' && Number.isInteger(v);
}

function checkOne(spec: FieldSpec, v: unknown, row: Row, others: readonly Row[]): void {
  if (!typeOk(spec, v)) {
    throw fail('FIELD_INVALID_TYPE', `Field '${spec.name}' must be of type '${spec.type}'.`);
  }
  if (spec.choices && !spec.choices.includes(v as string)) {
    throw fail('FIELD_INVALID_CHOICE', `Field '${spec.name}' must be one of [${spec.choices.join(', ')}]`);
  }
  if (spec.unique && others.some((o) => o[spec.name] === v)) {
    const id = others.findIndex((o) => o[spec.name] === v);
    throw fail(
      'FIELD_MUST_BE_UNIQUE',
      `Field '${spec.name}' must be unique. Value is in use by object with ID '${id}'.`,
    );
  }
  if (v === '' && spec.allowEmpty) return;
  if (v === '') throw fail('FIELD_EMPTY_NOT_ALLOWED', `Field '${spec.name}' cannot be empty.`);
  if (typeof v === 'string' && spec.maxLength !== undefined && v.length > spec.maxLength) {
    throw fail(
      'LENGTH_VALIDATOR_MAXIMUM_CONSTRAINT',
      `Field '${spec.name}' exceeds the maximum character length of ${spec.maxLength}.`,
    );
  }
  if (typeof v === 'number' && spec.minimum !== undefined && v < spec.minimum) {
    throw fail(
      'NUMERIC_RANGE_VALIDATOR_MINIMUM_CONSTRAINT',
      `Field '${spec.name}' must be greater than or equal to ${spec.minimum}.`,
    );
  }
  if (typeof v === 'number' && spec.maximum !== undefined && v > spec.maximum) {
    throw fail(
      'NUMERIC_RANGE_VALIDATOR_MAXIMUM_CONSTRAINT',
      `Field '${spec.name}' must be less than or equal to ${spec.maximum}.`,
    );
  }
  spec.check?.(v, row);
}

function conditionsMet(spec: FieldSpec, row: Row): boolean {
  return Object.entries(spec.conditions ?? {}).every(([field, values]) => values.includes(row[field]));
}

/**
 * Validates a full candidate against `model`, first failure wins, and returns the stored row (every field, in
 * declaration order; unmet conditions store null). `context` is the list it joins (itself excluded).
 */
export function validateRow(
  model: ModelSpec,
  candidate: Row,
  context: readonly Row[],
  selfIndex: number | null,
  original: Row | null,
): Row {
  const row: Row = {};
  for (const spec of model.fields) {
    if (spec.notEditable && original !== null && JSON.stringify(candidate[spec.name]) !== JSON.stringify(original[spec.name])) {
      throw fail(
        'FIELD_VALUE_CHANGED_WHEN_NOT_EDITABLE',
        `Field '${spec.name}' is not editable but the requested value differs from its current value.`,
      );
    }
    if (spec.readOnly) {
      row[spec.name] = original?.[spec.name] ?? spec.default ?? null;
      continue;
    }
    row[spec.name] = spec.name in candidate ? candidate[spec.name] : spec.default;
  }
  const others = context.filter((_, i) => i !== selfIndex);
  for (const spec of model.fields) {
    if (spec.readOnly) continue;
    if (!conditionsMet(spec, row)) {
      row[spec.name] = null;
      continue;
    }
    const value = row[spec.name];
    if (value === undefined || value === null) {
      if (spec.required) throw fail('FIELD_IS_REQUIRED', `Field '${spec.name}' is required.`);
      if (!spec.allowNull) {
        throw fail('FIELD_INVALID_TYPE', `Field '${spec.name}' must be of type '${spec.type}'.`);
      }
      row[spec.name] = null;
      continue;
    }
    if (spec.many) {
      if (!Array.isArray(value)) {
        throw fail('FIELD_INVALID_MANY_VALUE', `Field '${spec.name}' must be an array of values.`);
      }
      if (spec.manyMaximum !== undefined && value.length > spec.manyMaximum) {
        throw fail(
          'LENGTH_VALIDATOR_MAXIMUM_CONSTRAINT',
          `Field '${spec.name}' exceeds the maximum array length of ${spec.manyMaximum}.`,
        );
      }
      if (value.length === 0 && !spec.allowEmpty) {
        throw fail('FIELD_EMPTY_NOT_ALLOWED', `Field '${spec.name}' cannot be empty.`);
      }
      for (const item of value) checkOne(spec, item, row, []);
      row[spec.name] = [...(value as unknown[])];
    } else {
      checkOne(spec, value, row, others);
    }
  }
  model.extra?.(row, others, selfIndex);
  return row;
}

export function representRow(model: ModelSpec, row: Row, id: number | string): Row & { id: number } {
  const out: Row = { id };
  for (const spec of model.fields) out[spec.name] = row[spec.name] ?? null;
  return out as Row & { id: number };
}

/** A Collection model (list CRUD with pfRest semantics) over `items` of the box. */
export function collectionModel(
  model: ModelSpec,
  o: {
    subsystem: string | null;
    items: () => Row[];
    replace: (items: Row[]) => void;
    /** Fills fields the server computes (timestamps, creators) after validation. */
    complete?: (row: Row, original: Row | null) => Row;
    /** The model's `sort_by` fields and `sort_flags` (ascending, as every emulated model sorts). */
    sort?: { by: string[]; flags?: string };
  },
): CollectionModel<Row> {
  return {
    ...(o.sort
      ? { sort: { sortBy: o.sort.by, sortOrder: 'SORT_ASC' as const, sortFlags: o.sort.flags ?? 'SORT_REGULAR' } }
      : {}),
    fields: model.fields.map((f) => f.name),
    arrayFields: model.fields.filter((f) => f.many).map((f) => f.name),
    subsystem: o.subsystem,
    minimum: 0,
    items: o.items,
    replace: o.replace,
    validate: (candidate, v) => {
      const row = validateRow(model, candidate, v.context, v.selfIndex, v.original);
      return o.complete ? o.complete(row, v.original) : row;
    },
    represent: (item, id) => representRow(model, item, id),
  };
}
