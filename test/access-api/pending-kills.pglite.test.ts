/** @module Pending state kills surviving a restart, on embedded PGlite. */
import { storeKinds } from '../helpers/store.ts';
import { pendingKillSuite } from './pending-kills.case.test.ts';

pendingKillSuite(storeKinds().find((entry) => entry.kind === 'pglite') as NonNullable<ReturnType<typeof storeKinds>[number]>);
