/**
 * @module drizzle-kit configuration: `npx drizzle-kit generate` writes SQL migrations for the schema in
 * src/store/schema to src/store/migrations (committed; applied at start by src/store/migrate.ts).
 */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/store/schema/index.ts',
  out: './src/store/migrations',
});
