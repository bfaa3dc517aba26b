CREATE TABLE "distribution_locks" (
	"site_id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"distribution_id" uuid NOT NULL,
	"acquired_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "distribution_steps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"distribution_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"seq" integer NOT NULL,
	"tier" integer NOT NULL,
	"device_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"resource_key" text NOT NULL,
	"action" text NOT NULL,
	"status" text NOT NULL,
	"desired" jsonb,
	"before" jsonb,
	"target" text,
	"compensation" jsonb,
	"pending_change_id" uuid,
	"compensation_change_id" uuid,
	"verification" jsonb,
	"error" jsonb,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "distributions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"canonical_vlan_id" uuid,
	"vlan_tag" integer NOT NULL,
	"vlan_name" text NOT NULL,
	"status" text NOT NULL,
	"placement" jsonb NOT NULL,
	"attempt" integer DEFAULT 1 NOT NULL,
	"error" jsonb,
	"triggered_by" uuid,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "distribution_locks" ADD CONSTRAINT "distribution_locks_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "distribution_locks" ADD CONSTRAINT "distribution_locks_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "distribution_locks" ADD CONSTRAINT "distribution_locks_distribution_id_distributions_id_fk" FOREIGN KEY ("distribution_id") REFERENCES "public"."distributions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "distribution_steps" ADD CONSTRAINT "distribution_steps_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "distribution_steps" ADD CONSTRAINT "distribution_steps_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "distribution_steps" ADD CONSTRAINT "distribution_steps_distribution_id_distributions_id_fk" FOREIGN KEY ("distribution_id") REFERENCES "public"."distributions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "distribution_steps" ADD CONSTRAINT "distribution_steps_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "distribution_steps" ADD CONSTRAINT "distribution_steps_pending_change_id_pending_changes_id_fk" FOREIGN KEY ("pending_change_id") REFERENCES "public"."pending_changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "distribution_steps" ADD CONSTRAINT "distribution_steps_compensation_change_id_pending_changes_id_fk" FOREIGN KEY ("compensation_change_id") REFERENCES "public"."pending_changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "distributions" ADD CONSTRAINT "distributions_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "distributions" ADD CONSTRAINT "distributions_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "distributions" ADD CONSTRAINT "distributions_canonical_vlan_id_orchestration_vlans_id_fk" FOREIGN KEY ("canonical_vlan_id") REFERENCES "public"."orchestration_vlans"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "distribution_steps_distribution_idx" ON "distribution_steps" USING btree ("distribution_id","attempt","seq");--> statement-breakpoint
CREATE INDEX "distributions_org_site_idx" ON "distributions" USING btree ("org_id","site_id","created_at");