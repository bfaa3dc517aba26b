-- org_id on the access link tables and the EDL fetch log (issue 2). Existing rows take the org of their knoc
-- before the column becomes NOT NULL (drizzle-kit would add it NOT NULL at once, which fails on a filled table).
ALTER TABLE "edl_fetches" ADD COLUMN "org_id" uuid;--> statement-breakpoint
ALTER TABLE "knoc_groups" ADD COLUMN "org_id" uuid;--> statement-breakpoint
ALTER TABLE "knoc_users" ADD COLUMN "org_id" uuid;--> statement-breakpoint
UPDATE "edl_fetches" SET "org_id" = "knocs"."org_id" FROM "knocs" WHERE "knocs"."id" = "edl_fetches"."knoc_id";--> statement-breakpoint
UPDATE "knoc_groups" SET "org_id" = "knocs"."org_id" FROM "knocs" WHERE "knocs"."id" = "knoc_groups"."knoc_id";--> statement-breakpoint
UPDATE "knoc_users" SET "org_id" = "knocs"."org_id" FROM "knocs" WHERE "knocs"."id" = "knoc_users"."knoc_id";--> statement-breakpoint
ALTER TABLE "edl_fetches" ALTER COLUMN "org_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "knoc_groups" ALTER COLUMN "org_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "knoc_users" ALTER COLUMN "org_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "edl_fetches" ADD CONSTRAINT "edl_fetches_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knoc_groups" ADD CONSTRAINT "knoc_groups_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knoc_users" ADD CONSTRAINT "knoc_users_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;
