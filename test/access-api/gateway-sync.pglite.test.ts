/** @module The gateway sync suite on PGlite. */
import { runGatewaySyncSuite } from './gateway-sync.case.test.ts';

runGatewaySyncSuite('pglite');
