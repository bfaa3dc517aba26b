CREATE TABLE "audit_syslog_cursor" (
	"name" text PRIMARY KEY NOT NULL,
	"last_id" bigint NOT NULL,
	"sent_above" bigint[] DEFAULT '{}' NOT NULL,
	"gap_since" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
