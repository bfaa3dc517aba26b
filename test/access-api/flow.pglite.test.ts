/** @module The access flow suite on embedded PGlite. */
import { runFlowSuite } from './flow.case.test.ts';

runFlowSuite('pglite');
