-- Issue 9: the firewall module tables (normalized rules, NAT, VPN, IDS alerts, logs, settings, sync snapshots,
-- pending changes), webhooks and their deliveries, a gateway column on the event outbox, gateway health / sync
-- state, and an API key that may be absent (a gateway restored from a backup has none until one is set).
CREATE TABLE "webhook_deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "webhook_deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"org_id" uuid NOT NULL,
	"webhook_id" uuid NOT NULL,
	"event_id" bigint NOT NULL,
	"event_type" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"response_status" integer,
	"error" text,
	"duration_ms" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"event_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"site_ids" uuid[],
	"secret_enc" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"disabled_at" timestamp with time zone,
	"disabled_reason" text,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "firewall_aliases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"name" text NOT NULL,
	"alias_type" text NOT NULL,
	"entries" text[] DEFAULT '{}'::text[] NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"last_synced_at" timestamp with time zone,
	"device_deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "firewall_ids_alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"vendor_alert_id" text,
	"severity" text NOT NULL,
	"signature_id" bigint,
	"signature" text NOT NULL,
	"category" text,
	"protocol" text,
	"source_ip" text,
	"source_port" integer,
	"dest_ip" text,
	"dest_port" integer,
	"action_taken" text DEFAULT 'alert' NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"acknowledged" boolean DEFAULT false NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "firewall_interfaces" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"vendor_interface_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"addresses" text[] DEFAULT '{}'::text[] NOT NULL,
	"status" text,
	"counters" jsonb,
	"last_synced_at" timestamp with time zone,
	"device_deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "firewall_logs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "firewall_logs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"logged_at" timestamp with time zone NOT NULL,
	"action" text NOT NULL,
	"interface" text,
	"direction" text,
	"ip_version" integer,
	"protocol" text,
	"source_ip" text,
	"source_port" integer,
	"dest_ip" text,
	"dest_port" integer,
	"vendor_rule_id" text,
	"reason" text,
	"length" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "firewall_nat_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"vendor_rule_id" text,
	"nat_type" text NOT NULL,
	"interface" text,
	"protocol" text DEFAULT 'any' NOT NULL,
	"source_address" text DEFAULT 'any' NOT NULL,
	"source_port" text DEFAULT 'any' NOT NULL,
	"dest_address" text DEFAULT 'any' NOT NULL,
	"dest_port" text DEFAULT 'any' NOT NULL,
	"translated_address" text,
	"translated_port" text,
	"is_enabled" boolean DEFAULT true NOT NULL,
	"log_enabled" boolean DEFAULT false NOT NULL,
	"rule_order" integer NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"last_synced_at" timestamp with time zone,
	"device_deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "firewall_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"vendor_rule_id" text,
	"source_address" text DEFAULT 'any' NOT NULL,
	"source_port" text DEFAULT 'any' NOT NULL,
	"source_zone" text,
	"dest_address" text DEFAULT 'any' NOT NULL,
	"dest_port" text DEFAULT 'any' NOT NULL,
	"dest_zone" text,
	"protocol" text DEFAULT 'any' NOT NULL,
	"action" text NOT NULL,
	"log_enabled" boolean DEFAULT false NOT NULL,
	"is_enabled" boolean DEFAULT true NOT NULL,
	"rule_order" integer NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"hit_count" bigint DEFAULT 0 NOT NULL,
	"last_synced_at" timestamp with time zone,
	"device_deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "firewall_settings" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"settings" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" uuid
);
--> statement-breakpoint
CREATE TABLE "firewall_vpn_tunnels" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"vendor_tunnel_id" text,
	"name" text NOT NULL,
	"vpn_type" text NOT NULL,
	"vpn_status" text DEFAULT 'down' NOT NULL,
	"local_address" text,
	"remote_address" text,
	"local_networks" text[] DEFAULT '{}'::text[] NOT NULL,
	"remote_networks" text[] DEFAULT '{}'::text[] NOT NULL,
	"is_enabled" boolean DEFAULT true NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"bytes_in" bigint DEFAULT 0 NOT NULL,
	"bytes_out" bigint DEFAULT 0 NOT NULL,
	"status_changed_at" timestamp with time zone,
	"last_synced_at" timestamp with time zone,
	"device_deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "pending_changes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"target_type" text NOT NULL,
	"operation" text NOT NULL,
	"target_vendor_id" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"payload" jsonb NOT NULL,
	"payload_secrets_enc" text,
	"requires_confirmation" boolean DEFAULT false NOT NULL,
	"preview" jsonb,
	"before_image" jsonb,
	"verification" jsonb,
	"override_lockout" boolean DEFAULT false NOT NULL,
	"override_reason" text,
	"reverts_id" uuid,
	"error_code" text,
	"error_message" text,
	"vendor_code" text,
	"created_by" uuid,
	"claimed_at" timestamp with time zone,
	"claimed_by" text,
	"applied_at" timestamp with time zone,
	"applied_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "gateways" ALTER COLUMN "api_key_enc" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "gateway_id" uuid;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "is_online" boolean;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "last_seen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "health" jsonb;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "sync_status" text DEFAULT 'never' NOT NULL;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "last_sync_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "sync_error_code" text;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "sync_error_message" text;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_webhooks_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_aliases" ADD CONSTRAINT "firewall_aliases_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_aliases" ADD CONSTRAINT "firewall_aliases_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_aliases" ADD CONSTRAINT "firewall_aliases_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_ids_alerts" ADD CONSTRAINT "firewall_ids_alerts_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_ids_alerts" ADD CONSTRAINT "firewall_ids_alerts_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_ids_alerts" ADD CONSTRAINT "firewall_ids_alerts_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_interfaces" ADD CONSTRAINT "firewall_interfaces_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_interfaces" ADD CONSTRAINT "firewall_interfaces_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_interfaces" ADD CONSTRAINT "firewall_interfaces_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_logs" ADD CONSTRAINT "firewall_logs_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_logs" ADD CONSTRAINT "firewall_logs_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_logs" ADD CONSTRAINT "firewall_logs_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_nat_rules" ADD CONSTRAINT "firewall_nat_rules_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_nat_rules" ADD CONSTRAINT "firewall_nat_rules_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_nat_rules" ADD CONSTRAINT "firewall_nat_rules_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_rules" ADD CONSTRAINT "firewall_rules_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_rules" ADD CONSTRAINT "firewall_rules_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_rules" ADD CONSTRAINT "firewall_rules_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_settings" ADD CONSTRAINT "firewall_settings_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_vpn_tunnels" ADD CONSTRAINT "firewall_vpn_tunnels_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_vpn_tunnels" ADD CONSTRAINT "firewall_vpn_tunnels_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "firewall_vpn_tunnels" ADD CONSTRAINT "firewall_vpn_tunnels_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pending_changes" ADD CONSTRAINT "pending_changes_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pending_changes" ADD CONSTRAINT "pending_changes_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pending_changes" ADD CONSTRAINT "pending_changes_device_id_gateways_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_event_uq" ON "webhook_deliveries" USING btree ("webhook_id","event_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE "webhook_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook_idx" ON "webhook_deliveries" USING btree ("webhook_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "webhooks_org_name_live_uq" ON "webhooks" USING btree ("org_id","name") WHERE "webhooks"."deleted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "firewall_aliases_device_name_uq" ON "firewall_aliases" USING btree ("device_id","name");--> statement-breakpoint
CREATE INDEX "firewall_ids_alerts_org_time_idx" ON "firewall_ids_alerts" USING btree ("org_id","occurred_at");--> statement-breakpoint
CREATE INDEX "firewall_ids_alerts_unack_idx" ON "firewall_ids_alerts" USING btree ("org_id") WHERE "firewall_ids_alerts"."acknowledged" = false;--> statement-breakpoint
CREATE UNIQUE INDEX "firewall_ids_alerts_vendor_uq" ON "firewall_ids_alerts" USING btree ("device_id","vendor_alert_id") WHERE "firewall_ids_alerts"."vendor_alert_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "firewall_interfaces_vendor_uq" ON "firewall_interfaces" USING btree ("device_id","vendor_interface_id");--> statement-breakpoint
CREATE INDEX "firewall_logs_org_time_idx" ON "firewall_logs" USING btree ("org_id","logged_at");--> statement-breakpoint
CREATE INDEX "firewall_logs_device_time_idx" ON "firewall_logs" USING btree ("device_id","logged_at");--> statement-breakpoint
CREATE INDEX "firewall_nat_rules_device_idx" ON "firewall_nat_rules" USING btree ("device_id") WHERE "firewall_nat_rules"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "firewall_nat_rules_site_idx" ON "firewall_nat_rules" USING btree ("org_id","site_id");--> statement-breakpoint
CREATE UNIQUE INDEX "firewall_nat_rules_vendor_uq" ON "firewall_nat_rules" USING btree ("device_id","nat_type","vendor_rule_id") WHERE "firewall_nat_rules"."deleted_at" is null and "firewall_nat_rules"."vendor_rule_id" is not null;--> statement-breakpoint
CREATE INDEX "firewall_rules_device_order_idx" ON "firewall_rules" USING btree ("device_id","rule_order") WHERE "firewall_rules"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "firewall_rules_site_idx" ON "firewall_rules" USING btree ("org_id","site_id");--> statement-breakpoint
CREATE UNIQUE INDEX "firewall_rules_vendor_uq" ON "firewall_rules" USING btree ("device_id","vendor_rule_id") WHERE "firewall_rules"."deleted_at" is null and "firewall_rules"."vendor_rule_id" is not null;--> statement-breakpoint
CREATE INDEX "firewall_vpn_tunnels_site_idx" ON "firewall_vpn_tunnels" USING btree ("org_id","site_id");--> statement-breakpoint
CREATE UNIQUE INDEX "firewall_vpn_tunnels_vendor_uq" ON "firewall_vpn_tunnels" USING btree ("device_id","vpn_type","vendor_tunnel_id") WHERE "firewall_vpn_tunnels"."deleted_at" is null and "firewall_vpn_tunnels"."vendor_tunnel_id" is not null;--> statement-breakpoint
CREATE INDEX "pending_changes_org_status_idx" ON "pending_changes" USING btree ("org_id","status");--> statement-breakpoint
CREATE INDEX "pending_changes_device_status_idx" ON "pending_changes" USING btree ("device_id","status");--> statement-breakpoint
CREATE INDEX "pending_changes_applying_idx" ON "pending_changes" USING btree ("claimed_at") WHERE "pending_changes"."status" = 'applying';