ALTER TABLE `org_configs` ADD `opening_hours_time_zone` text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE `org_configs` ADD `opening_hours_weekly` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `org_configs` ADD `opening_hours_exceptions` text DEFAULT '[]' NOT NULL;