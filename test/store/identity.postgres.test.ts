/** @module The identity/store suite on PostgreSQL (skipped, saying why, when no server is available). */
import { describe } from 'vitest';
import { freshPostgres, storeKinds } from '../helpers/store.ts';
import { runIdentitySuite } from './identity.case.test.ts';

const postgres = storeKinds().find((k) => k.kind === 'postgres');

describe.skipIf(!postgres?.available)(
  `identity on PostgreSQL${postgres?.skipReason ? ` — ${postgres.skipReason}` : ''}`,
  () => runIdentitySuite(freshPostgres),
);
