/** @module The firewall backup suite on embedded PGlite. */
import { runBackupSuite } from './backup.case.test.ts';

runBackupSuite('pglite');
