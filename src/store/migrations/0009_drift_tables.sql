CREATE TABLE "drift_baselines" (
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"resource_type" text NOT NULL,
	"resource_key" text NOT NULL,
	"name" text NOT NULL,
	"body" jsonb NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "drift_baselines_device_id_resource_type_resource_key_pk" PRIMARY KEY("device_id","resource_type","resource_key")
);
--> statement-breakpoint
CREATE TABLE "drift_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"resource_type" text NOT NULL,
	"resource_key" text NOT NULL,
	"resource_name" text NOT NULL,
	"drift_type" text NOT NULL,
	"severity" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"resolution" text,
	"message" text NOT NULL,
	"expected" jsonb,
	"actual" jsonb,
	"actual_hash" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"pending_change_id" uuid,
	"suppression_id" uuid,
	"resolved_at" timestamp with time zone,
	"resolved_by" uuid
);
--> statement-breakpoint
CREATE TABLE "drift_gateway_state" (
	"device_id" uuid PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"baseline_at" timestamp with time zone,
	"folded_until" timestamp with time zone,
	"last_check_at" timestamp with time zone,
	"last_outcome" text,
	"last_error_code" text,
	"last_error_message" text,
	"skipped" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "drift_suppressions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid,
	"resource_type" text NOT NULL,
	"pattern" text NOT NULL,
	"mode" text NOT NULL,
	"drift_type" text,
	"reason" text NOT NULL,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_by" uuid,
	"deactivated_at" timestamp with time zone,
	"deactivated_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "drift_baselines" ADD CONSTRAINT "drift_baselines_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_baselines" ADD CONSTRAINT "drift_baselines_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_baselines" ADD CONSTRAINT "drift_baselines_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_events" ADD CONSTRAINT "drift_events_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_events" ADD CONSTRAINT "drift_events_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_events" ADD CONSTRAINT "drift_events_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_events" ADD CONSTRAINT "drift_events_pending_change_id_pending_changes_id_fk" FOREIGN KEY ("pending_change_id") REFERENCES "public"."pending_changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_gateway_state" ADD CONSTRAINT "drift_gateway_state_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_gateway_state" ADD CONSTRAINT "drift_gateway_state_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_gateway_state" ADD CONSTRAINT "drift_gateway_state_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_suppressions" ADD CONSTRAINT "drift_suppressions_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_suppressions" ADD CONSTRAINT "drift_suppressions_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "drift_suppressions" ADD CONSTRAINT "drift_suppressions_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "drift_events_one_open_uq" ON "drift_events" USING btree ("device_id","resource_type","resource_key","drift_type") WHERE "drift_events"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "drift_events_org_seen_idx" ON "drift_events" USING btree ("org_id","last_seen_at");--> statement-breakpoint
CREATE INDEX "drift_events_device_status_idx" ON "drift_events" USING btree ("device_id","status");--> statement-breakpoint
CREATE INDEX "drift_suppressions_site_idx" ON "drift_suppressions" USING btree ("org_id","site_id","is_active");