CREATE TABLE "orchestration_dhcp_reservations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"scope_id" uuid NOT NULL,
	"mac" text NOT NULL,
	"ip_address" text NOT NULL,
	"hostname" text,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orchestration_dhcp_scopes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"canonical_vlan_id" uuid NOT NULL,
	"ip_version" integer NOT NULL,
	"range_start" text NOT NULL,
	"range_end" text NOT NULL,
	"lease_seconds" integer DEFAULT 86400 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orchestration_dns_records" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"host" text NOT NULL,
	"domain" text NOT NULL,
	"ip_address" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orchestration_topologies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"authority_map" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orchestration_topology_members" (
	"org_id" uuid NOT NULL,
	"topology_id" uuid NOT NULL,
	"gateway_id" uuid NOT NULL,
	"role" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orchestration_vlan_templates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"vlan_id" integer NOT NULL,
	"vlan_name" text NOT NULL,
	"ipv4_subnet" text,
	"ipv6_subnet" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orchestration_vlans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"vlan_id" integer NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"ipv4_subnet" text,
	"ipv6_subnet" text,
	"template_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "orchestration_dhcp_reservations" ADD CONSTRAINT "orchestration_dhcp_reservations_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_dhcp_reservations" ADD CONSTRAINT "orchestration_dhcp_reservations_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_dhcp_reservations" ADD CONSTRAINT "orchestration_dhcp_reservations_scope_id_orchestration_dhcp_scopes_id_fk" FOREIGN KEY ("scope_id") REFERENCES "public"."orchestration_dhcp_scopes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_dhcp_scopes" ADD CONSTRAINT "orchestration_dhcp_scopes_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_dhcp_scopes" ADD CONSTRAINT "orchestration_dhcp_scopes_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_dhcp_scopes" ADD CONSTRAINT "orchestration_dhcp_scopes_canonical_vlan_id_orchestration_vlans_id_fk" FOREIGN KEY ("canonical_vlan_id") REFERENCES "public"."orchestration_vlans"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_dns_records" ADD CONSTRAINT "orchestration_dns_records_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_dns_records" ADD CONSTRAINT "orchestration_dns_records_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_topologies" ADD CONSTRAINT "orchestration_topologies_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_topologies" ADD CONSTRAINT "orchestration_topologies_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_topology_members" ADD CONSTRAINT "orchestration_topology_members_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_topology_members" ADD CONSTRAINT "orchestration_topology_members_topology_id_orchestration_topologies_id_fk" FOREIGN KEY ("topology_id") REFERENCES "public"."orchestration_topologies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_topology_members" ADD CONSTRAINT "orchestration_topology_members_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_vlan_templates" ADD CONSTRAINT "orchestration_vlan_templates_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_vlans" ADD CONSTRAINT "orchestration_vlans_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orchestration_vlans" ADD CONSTRAINT "orchestration_vlans_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_dhcp_reservations_mac_uq" ON "orchestration_dhcp_reservations" USING btree ("scope_id","mac");--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_dhcp_reservations_ip_uq" ON "orchestration_dhcp_reservations" USING btree ("scope_id","ip_address");--> statement-breakpoint
CREATE INDEX "orchestration_dhcp_reservations_org_idx" ON "orchestration_dhcp_reservations" USING btree ("org_id","site_id");--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_dhcp_scopes_vlan_family_uq" ON "orchestration_dhcp_scopes" USING btree ("canonical_vlan_id","ip_version");--> statement-breakpoint
CREATE INDEX "orchestration_dhcp_scopes_org_idx" ON "orchestration_dhcp_scopes" USING btree ("org_id","site_id");--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_dns_records_uq" ON "orchestration_dns_records" USING btree ("site_id","host","domain","ip_address");--> statement-breakpoint
CREATE INDEX "orchestration_dns_records_org_idx" ON "orchestration_dns_records" USING btree ("org_id");--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_topologies_site_uq" ON "orchestration_topologies" USING btree ("site_id");--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_topology_members_gateway_uq" ON "orchestration_topology_members" USING btree ("gateway_id");--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_topology_members_one_brain_uq" ON "orchestration_topology_members" USING btree ("topology_id") WHERE "orchestration_topology_members"."role" = 'brain';--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_vlan_templates_name_uq" ON "orchestration_vlan_templates" USING btree ("org_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_vlans_site_vlan_uq" ON "orchestration_vlans" USING btree ("site_id","vlan_id");--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_vlans_site_name_uq" ON "orchestration_vlans" USING btree ("site_id","name");--> statement-breakpoint
CREATE INDEX "orchestration_vlans_org_idx" ON "orchestration_vlans" USING btree ("org_id");