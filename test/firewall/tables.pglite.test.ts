/** @module The firewall tables suite on embedded PGlite. */
import { runFirewallTablesSuite } from './tables.case.test.ts';

runFirewallTablesSuite('pglite');
