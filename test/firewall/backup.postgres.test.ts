/** @module The firewall backup suite on PostgreSQL. */
import { runBackupSuite } from './backup.case.test.ts';

runBackupSuite('postgres');
