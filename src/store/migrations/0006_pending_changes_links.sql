ALTER TABLE "pending_changes" ADD COLUMN "source_rule_id" uuid;--> statement-breakpoint
ALTER TABLE "pending_changes" ADD COLUMN "place_before" text;--> statement-breakpoint
ALTER TABLE "pending_changes" ADD CONSTRAINT "pending_changes_source_rule_id_firewall_rules_id_fk" FOREIGN KEY ("source_rule_id") REFERENCES "public"."firewall_rules"("id") ON DELETE no action ON UPDATE no action;