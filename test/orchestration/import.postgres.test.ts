/** @module The brownfield import suite (test/orchestration/import.case.ts) on PostgreSQL (skipped, with the reason in the suite name, when none is running). */
import { describe } from 'vitest';
import { storeKinds } from '../helpers/store.ts';
import { runImportSuite } from './import.case.ts';

const postgres = storeKinds().find((entry) => entry.kind === 'postgres');
describe.skipIf(!postgres?.available)(`postgres ${postgres?.skipReason ?? ''}`, () => runImportSuite('postgres'));
