// The UPDATE of a configuration row that sets the version and only the settings that changed, with
// one prepared statement per set of changed settings: binding and encoding all 51 settings at every
// write showed in the write profile, and an update usually changes one or two.
import type Database from 'better-sqlite3';
import { eq, sql } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { SettingChange } from '../../config/patch.ts';
import { directStatement } from './direct-statement.ts';
import { orgConfigs } from './schema.ts';

/** Distinct sets of changed settings kept prepared; the least recently used goes beyond this. */
const maxStatements = 64;

export class ChangedSettingsUpdate {
  private readonly statements = new Map<string, ReturnType<typeof directStatement>>();

  constructor(
    private readonly sqlite: Database.Database,
    private readonly db: BetterSQLite3Database,
  ) {}

  /**
   * Writes the new version and the changed settings (columns keyed by legacy key). The row's other
   * settings already hold the values the changes were computed against, so the row ends as a
   * full update would leave it.
   */
  run(orgId: string, version: number, updatedAt: Date, changes: readonly SettingChange[]): void {
    const values: Record<string, unknown> = { version, updatedAt, whereOrgId: orgId };
    for (const { legacyKey, after } of changes) values[legacyKey] = after;
    const columns = changes.map(({ legacyKey }) => legacyKey);
    // New weekly slots replace the UTC offsets a row from before opening hours may still hold (rows.ts).
    if (values.openingHoursWeekly !== undefined) {
      values.legacyWorkingHours = [];
      columns.push('legacyWorkingHours');
    }
    this.statementFor(columns)(values);
  }

  private statementFor(legacyKeys: string[]): ReturnType<typeof directStatement> {
    const key = legacyKeys.join(',');
    let statement = this.statements.get(key);
    if (statement) {
      this.statements.delete(key); // re-inserted last: most recently used
    } else {
      const columns = ['version', 'updatedAt', ...legacyKeys];
      const set = Object.fromEntries(columns.map((column) => [column, sql.placeholder(column)]));
      statement = directStatement(
        this.sqlite,
        this.db
          .update(orgConfigs)
          .set(set)
          .where(eq(orgConfigs.orgId, sql.placeholder('whereOrgId'))),
      );
      if (this.statements.size >= maxStatements) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(key, statement);
    return statement;
  }
}
