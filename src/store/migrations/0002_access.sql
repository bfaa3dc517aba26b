CREATE TABLE "edl_fetches" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "edl_fetches_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"knoc_id" uuid NOT NULL,
	"source_ip" text NOT NULL,
	"status" integer NOT NULL,
	"entries" integer,
	"format" text NOT NULL,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"org_id" uuid NOT NULL,
	"type" text NOT NULL,
	"site_id" uuid,
	"knoc_id" uuid,
	"grant_id" uuid,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "gateways" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"name" text NOT NULL,
	"vendor" text NOT NULL,
	"url" text NOT NULL,
	"api_key_enc" text NOT NULL,
	"verify_ssl" boolean DEFAULT true NOT NULL,
	"ca_pem" text,
	"fingerprint_sha256" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "grants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"knoc_id" uuid NOT NULL,
	"user_id" uuid,
	"ip" text NOT NULL,
	"method" text NOT NULL,
	"reason" text,
	"session_id" uuid,
	"token_id" uuid,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"sync_state" text DEFAULT 'pending' NOT NULL,
	"synced_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "knoc_groups" (
	"knoc_id" uuid NOT NULL,
	"group_id" uuid NOT NULL,
	CONSTRAINT "knoc_groups_knoc_id_group_id_pk" PRIMARY KEY("knoc_id","group_id")
);
--> statement-breakpoint
CREATE TABLE "knoc_users" (
	"knoc_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	CONSTRAINT "knoc_users_knoc_id_user_id_pk" PRIMARY KEY("knoc_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "knocs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"gateway_id" uuid NOT NULL,
	"name" text NOT NULL,
	"mode" text NOT NULL,
	"alias_name" text NOT NULL,
	"create_alias_if_missing" boolean DEFAULT false NOT NULL,
	"grant_ttl_seconds" integer NOT NULL,
	"max_ttl_seconds" integer NOT NULL,
	"allowed_sources" text[] DEFAULT '{}'::text[] NOT NULL,
	"denied_sources" text[] DEFAULT '{}'::text[] NOT NULL,
	"kill_states_on_revoke" boolean DEFAULT true NOT NULL,
	"feed_token" text,
	"feed_key_hash" text,
	"feed_allowed_sources" text[] DEFAULT '{}'::text[] NOT NULL,
	"last_fetch_at" timestamp with time zone,
	"last_sync_at" timestamp with time zone,
	"last_apply_at" timestamp with time zone,
	"device_count" integer,
	"sync_error_code" text,
	"sync_error_message" text,
	"sync_error_since" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "knocs_feed_token_unique" UNIQUE("feed_token")
);
--> statement-breakpoint
ALTER TABLE "edl_fetches" ADD CONSTRAINT "edl_fetches_knoc_id_knocs_id_fk" FOREIGN KEY ("knoc_id") REFERENCES "public"."knocs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gateways" ADD CONSTRAINT "gateways_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gateways" ADD CONSTRAINT "gateways_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_knoc_id_knocs_id_fk" FOREIGN KEY ("knoc_id") REFERENCES "public"."knocs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knoc_groups" ADD CONSTRAINT "knoc_groups_knoc_id_knocs_id_fk" FOREIGN KEY ("knoc_id") REFERENCES "public"."knocs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knoc_groups" ADD CONSTRAINT "knoc_groups_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knoc_users" ADD CONSTRAINT "knoc_users_knoc_id_knocs_id_fk" FOREIGN KEY ("knoc_id") REFERENCES "public"."knocs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knoc_users" ADD CONSTRAINT "knoc_users_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knocs" ADD CONSTRAINT "knocs_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knocs" ADD CONSTRAINT "knocs_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "knocs" ADD CONSTRAINT "knocs_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "edl_fetches_knoc_idx" ON "edl_fetches" USING btree ("knoc_id","fetched_at");--> statement-breakpoint
CREATE INDEX "events_undelivered_idx" ON "events" USING btree ("id") WHERE "events"."delivered_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "gateways_org_name_live_uq" ON "gateways" USING btree ("org_id","name") WHERE "gateways"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "gateways_site_idx" ON "gateways" USING btree ("org_id","site_id");--> statement-breakpoint
CREATE INDEX "grants_knoc_open_idx" ON "grants" USING btree ("knoc_id") WHERE "grants"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "grants_org_created_idx" ON "grants" USING btree ("org_id","created_at");--> statement-breakpoint
CREATE INDEX "grants_user_idx" ON "grants" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "grants_session_idx" ON "grants" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "knoc_groups_group_idx" ON "knoc_groups" USING btree ("group_id");--> statement-breakpoint
CREATE INDEX "knoc_users_user_idx" ON "knoc_users" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "knocs_org_name_live_uq" ON "knocs" USING btree ("org_id","name") WHERE "knocs"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "knocs_gateway_alias_idx" ON "knocs" USING btree ("gateway_id","alias_name");--> statement-breakpoint
CREATE INDEX "knocs_site_idx" ON "knocs" USING btree ("org_id","site_id");