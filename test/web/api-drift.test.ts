/**
 * The committed web API files (`web/src/api/openapi.json`, `api.d.ts`) must be what `npm run gen:api` writes
 * from the server today: a route or schema change without regenerating fails here, naming the command.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_JSON, API_TYPES, apiFiles } from '../../scripts/api-files.ts';

describe('generated web API client', () => {
  let files: Record<string, string>;
  beforeAll(async () => {
    files = await apiFiles();
  });

  it('matches the server’s OpenAPI document (run `npm run gen:api` after changing routes)', () => {
    for (const path of [API_JSON, API_TYPES]) {
      const committed = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
      expect(committed === files[path], `${path} is out of date: run \`npm run gen:api\``).toBe(true);
    }
  });

  it('covers the routes the UI calls, and hides the web UI’s own routes from the document', () => {
    const document = JSON.parse(files[API_JSON] as string) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/api/v1/portal/me', '/api/v1/auth/me', '/api/v1/firewall/gateways/test']),
    );
    expect(Object.keys(document.paths).filter((p) => p === '/' || p === '/*' || p.startsWith('/assets'))).toEqual([]);
  });
});
