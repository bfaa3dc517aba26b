/** @module Pending state kills surviving a restart, on PostgreSQL (skipped, saying why, when none is running). */
import { storeKinds } from '../helpers/store.ts';
import { pendingKillSuite } from './pending-kills.case.test.ts';

pendingKillSuite(storeKinds().find((entry) => entry.kind === 'postgres') as NonNullable<ReturnType<typeof storeKinds>[number]>);
