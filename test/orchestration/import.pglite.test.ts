/** @module The brownfield import suite (test/orchestration/import.case.ts) on PGlite. */
import { runImportSuite } from './import.case.ts';

runImportSuite('pglite');
