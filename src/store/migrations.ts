// The migrations the code ships, per dialect (drizzle-kit's journal under drizzle/<dialect>).
import { readFileSync } from 'node:fs';
import { packagePath } from '../package-root.ts';

export function migrationsFolder(dialect: 'sqlite' | 'postgres'): string {
  return packagePath('drizzle', dialect);
}

/** How many migrations the code ships: a database with fewer applied is not ready. */
export function migrationCount(dialect: 'sqlite' | 'postgres'): number {
  const journal = JSON.parse(readFileSync(`${migrationsFolder(dialect)}/meta/_journal.json`, 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}
