/**
 * `npm run gen:api`: writes the server's OpenAPI document and the TypeScript types the web client is checked
 * against (`web/src/api/openapi.json`, `web/src/api/api.d.ts`), and the capability matrix `docs/vendors.md`
 * (scripts/vendors-doc.ts). test/web/api-drift.test.ts and test/docs/vendors-doc.test.ts fail when the committed
 * files differ from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { apiFiles } from './api-files.ts';
import { VENDORS_DOC, vendorsDoc } from './vendors-doc.ts';

for (const [path, text] of Object.entries({ ...(await apiFiles()), [VENDORS_DOC]: vendorsDoc() })) {
  writeFileSync(new URL(`../${path}`, import.meta.url), text);
  process.stdout.write(`wrote ${path}\n`);
}
