/** Writes docs/vendors.md from the vendor registry (also done by `npm run gen:api`). */
import { writeFileSync } from 'node:fs';
import { VENDORS_DOC, vendorsDoc } from './vendors-doc.ts';

writeFileSync(new URL(`../${VENDORS_DOC}`, import.meta.url), vendorsDoc());
process.stdout.write(`wrote ${VENDORS_DOC}\n`);
