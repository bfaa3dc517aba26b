CREATE TABLE "access_pending_kills" (
	"org_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"gateway_id" uuid NOT NULL,
	"alias_name" text NOT NULL,
	"ip" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "access_pending_kills_gateway_id_alias_name_ip_pk" PRIMARY KEY("gateway_id","alias_name","ip")
);
--> statement-breakpoint
CREATE TABLE "cluster_leases" (
	"name" text PRIMARY KEY NOT NULL,
	"node_id" uuid NOT NULL,
	"acquired_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cluster_nodes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"hostname" text NOT NULL,
	"pid" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "access_pending_kills" ADD CONSTRAINT "access_pending_kills_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "access_pending_kills" ADD CONSTRAINT "access_pending_kills_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "access_pending_kills" ADD CONSTRAINT "access_pending_kills_gateway_id_gateways_id_fk" FOREIGN KEY ("gateway_id") REFERENCES "public"."gateways"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cluster_leases_node_idx" ON "cluster_leases" USING btree ("node_id");