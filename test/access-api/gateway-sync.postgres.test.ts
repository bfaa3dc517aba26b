/** @module The gateway sync suite on PostgreSQL (skipped without a server, as the other suites). */
import { runGatewaySyncSuite } from './gateway-sync.case.test.ts';

runGatewaySyncSuite('postgres');
