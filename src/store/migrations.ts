// The migrations the code ships, per dialect (drizzle-kit's journal under drizzle/<dialect>).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function migrationsFolder(dialect: 'sqlite' | 'postgres'): string {
  return fileURLToPath(new URL(`../../drizzle/${dialect}`, import.meta.url));
}

/** How many migrations the code ships: a database with fewer applied is not ready. */
export function migrationCount(dialect: 'sqlite' | 'postgres'): number {
  const journal = JSON.parse(readFileSync(`${migrationsFolder(dialect)}/meta/_journal.json`, 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}
