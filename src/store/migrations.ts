// The migrations the code ships, per dialect (drizzle-kit's journal under drizzle/<dialect>).
import { readFileSync } from 'node:fs';
import { packagePath } from '../package-root.ts';

export function migrationsFolder(dialect: 'sqlite' | 'postgres'): string {
  return packagePath('drizzle', dialect);
}

const shipped = new Map<'sqlite' | 'postgres', number>();

/** How many migrations the code ships (drizzle-kit's journal), read once: /ready asks every few seconds. */
function migrationCount(dialect: 'sqlite' | 'postgres'): number {
  let count = shipped.get(dialect);
  if (count === undefined) {
    const journal = JSON.parse(readFileSync(`${migrationsFolder(dialect)}/meta/_journal.json`, 'utf8')) as {
      entries: unknown[];
    };
    shipped.set(dialect, (count = journal.entries.length));
  }
  return count;
}

/**
 * Whether a database with `applied` migrations is ready for this code: every one it ships, or more
 * (a newer replica of a rolling upgrade may have applied its own; they only add).
 */
export function isMigrated(applied: number, dialect: 'sqlite' | 'postgres'): boolean {
  return applied >= migrationCount(dialect);
}
