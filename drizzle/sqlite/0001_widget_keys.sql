CREATE TABLE `stream_tickets` (
	`ticket_hash` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`org_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	FOREIGN KEY (`key_id`) REFERENCES `api_keys`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `stream_tickets_expires_at_idx` ON `stream_tickets` (`expires_at`);--> statement-breakpoint
ALTER TABLE `api_keys` ADD `groups` text;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `expires_at` integer;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `last_used_at` integer;