ALTER TABLE "org_configs" ADD COLUMN "opening_hours_time_zone" text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE "org_configs" ADD COLUMN "opening_hours_weekly" json DEFAULT '[]'::json NOT NULL;--> statement-breakpoint
ALTER TABLE "org_configs" ADD COLUMN "opening_hours_exceptions" json DEFAULT '[]'::json NOT NULL;