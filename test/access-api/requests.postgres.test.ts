/** @module The access-request suite on PostgreSQL (skipped, with the reason in the suite name, when none is running). */
import { describe } from 'vitest';
import { storeKinds } from '../helpers/store.ts';
import { runRequestsSuite } from './requests.case.test.ts';

const postgres = storeKinds().find((entry) => entry.kind === 'postgres');
describe.skipIf(!postgres?.available)(`postgres ${postgres?.skipReason ?? ''}`, () =>
  runRequestsSuite('postgres'),
);
