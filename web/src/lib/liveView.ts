/**
 * A gateway's live answers are vendor-neutral objects whose shape differs per read (docs/api.md): lists under
 * `items`, several lists (NAT: port forwards, outbound mappings, 1:1), facts (status) or checks (health). This
 * turns any of them into facts (name → text) and tables (rows of text cells) a page can show; the vendor's own
 * row (`vendor_data`) is left out of the view.
 */
export interface LiveTable {
  title: string;
  columns: string[];
  rows: string[][];
}

export interface LiveSections {
  facts: [string, string][];
  tables: LiveTable[];
}

const HIDDEN = new Set(['vendor_data']);

/** A scalar or small value as text; objects as `key: value` pairs. */
export function textOf(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map(textOf).join(', ');
  return Object.entries(value as Record<string, unknown>)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}: ${textOf(v)}`)
    .join('; ');
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isTable = (value: unknown): value is Record<string, unknown>[] => Array.isArray(value) && value.every(isRecord);

function tableOf(title: string, rows: Record<string, unknown>[]): LiveTable {
  const columns: string[] = [];
  for (const row of rows) for (const k of Object.keys(row)) if (!HIDDEN.has(k) && !columns.includes(k)) columns.push(k);
  return { title, columns, rows: rows.map((row) => columns.map((c) => textOf(row[c]))) };
}

/** Facts and tables of a live answer; nested objects become `parent.child` facts or `parent.child` tables. */
export function liveSections(answer: unknown, prefix = ''): LiveSections {
  const out: LiveSections = { facts: [], tables: [] };
  if (!isRecord(answer)) return out;
  for (const [key, value] of Object.entries(answer)) {
    if (HIDDEN.has(key)) continue;
    const name = prefix ? `${prefix}.${key}` : key;
    if (isTable(value) && value.length > 0) out.tables.push(tableOf(name, value));
    else if (Array.isArray(value) && value.length === 0) out.tables.push({ title: name, columns: [], rows: [] });
    else if (isRecord(value)) {
      const inner = liveSections(value, name);
      out.facts.push(...inner.facts);
      out.tables.push(...inner.tables);
    } else out.facts.push([name, textOf(value)]);
  }
  return out;
}
