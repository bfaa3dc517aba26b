/** @module The job runner suite on PostgreSQL (skipped without a server, as the other suites). */
import { runJobRunnerSuite } from './runner.case.test.ts';

runJobRunnerSuite('postgres');
