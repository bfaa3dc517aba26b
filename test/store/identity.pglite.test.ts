/** @module The identity/store suite on embedded PGlite. */
import { describe } from 'vitest';
import { freshPglite } from '../helpers/store.ts';
import { runIdentitySuite } from './identity.case.test.ts';

describe('identity on PGlite', () => runIdentitySuite(freshPglite));
