-- The single org of a fresh install; its id is DEFAULT_ORG_ID in src/store/schema/tenancy.ts.
INSERT INTO "orgs" ("id", "name") VALUES ('00000000-0000-4000-8000-000000000001', 'default') ON CONFLICT DO NOTHING;
