ALTER TABLE "gateways" ADD COLUMN "management_source" text;--> statement-breakpoint
ALTER TABLE "gateways" ADD COLUMN "management_interface" text;