/**
 * `npm run gen:api`: writes the server's OpenAPI document and the TypeScript types the web client is checked
 * against (`web/src/api/openapi.json`, `web/src/api/api.d.ts`). test/web/api-drift.test.ts fails when the
 * committed files differ from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { apiFiles } from './api-files.ts';

for (const [path, text] of Object.entries(await apiFiles())) {
  writeFileSync(new URL(`../${path}`, import.meta.url), text);
  process.stdout.write(`wrote ${path}\n`);
}
