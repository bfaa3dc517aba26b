/** @module The job runner suite on PGlite. */
import { runJobRunnerSuite } from './runner.case.test.ts';

runJobRunnerSuite('pglite');
