ALTER TABLE "orchestration_topology_members" ADD COLUMN "site_id" uuid;--> statement-breakpoint
UPDATE "orchestration_topology_members" AS m SET "site_id" = t."site_id" FROM "orchestration_topologies" AS t WHERE t."id" = m."topology_id";--> statement-breakpoint
ALTER TABLE "orchestration_topology_members" ALTER COLUMN "site_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "orchestration_topology_members" ADD CONSTRAINT "orchestration_topology_members_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;
