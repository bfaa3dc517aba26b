/**
 * @module The audit log: `record` (inside the caller's transaction, redacted) and `query` (filters, paging).
 */
export { type AuditFilters, type AuditPage, type AuditRow, query } from './query.ts';
export {
  type Actor,
  type ActorType,
  type AuditEntry,
  type AuditOutcome,
  record,
  SYSTEM_ACTOR,
} from './record.ts';
