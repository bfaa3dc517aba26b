/**
 * @module Re-encrypts every registered encrypted column under the keyring's active key (after `rotate()`).
 * Idempotent and resumable: rows already on the active key are skipped, and each row is updated only if it
 * still holds the ciphertext that was read (a concurrent writer wins, and its value is already current).
 */
import { and, eq, getTableColumns, getTableName, isNotNull, notLike } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import type { Keyring } from './keyring.ts';
import { aadForColumn, ENCRYPTED_COLUMNS, type EncryptedColumn } from './registry.ts';

export interface ReencryptReport {
  /** `table.column` → rows re-encrypted. */
  columns: Record<string, number>;
  total: number;
}

const BATCH = 500;

export async function reencryptAll(
  db: Db,
  keyring: Keyring,
  columns: readonly EncryptedColumn[] = ENCRYPTED_COLUMNS,
): Promise<ReencryptReport> {
  const report: ReencryptReport = { columns: {}, total: 0 };
  const current = `v1.${keyring.activeKid}.%`;
  for (const entry of columns) {
    const property = propertyNameOf(entry);
    let count = 0;
    for (;;) {
      const rows = (await db
        .select({ id: entry.id, value: entry.column })
        .from(entry.table)
        .where(and(isNotNull(entry.column), notLike(entry.column, current)))
        .limit(BATCH)) as { id: string; value: string }[];
      if (rows.length === 0) break;
      await db.transaction(async (tx) => {
        for (const row of rows) {
          const aad = aadForColumn(entry, String(row.id));
          const resealed = keyring.seal(keyring.open(row.value, aad), aad);
          await tx
            .update(entry.table)
            .set({ [property]: resealed })
            .where(and(eq(entry.id, row.id), eq(entry.column, row.value)));
          count++;
        }
      });
    }
    report.columns[`${getTableName(entry.table)}.${entry.column.name}`] = count;
    report.total += count;
  }
  return report;
}

/** Drizzle's `set()` takes the schema's property name (`totpSecretEnc`), not the SQL name. */
function propertyNameOf(entry: EncryptedColumn): string {
  const found = Object.entries(getTableColumns(entry.table)).find(([, column]) => column === entry.column);
  if (!found)
    throw new Error(`column ${entry.column.name} does not belong to table ${getTableName(entry.table)}`);
  return found[0];
}
