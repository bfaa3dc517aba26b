/** @module The firewall tables suite on PostgreSQL. */
import { runFirewallTablesSuite } from './tables.case.test.ts';

runFirewallTablesSuite('postgres');
