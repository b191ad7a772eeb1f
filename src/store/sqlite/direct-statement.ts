// A drizzle-built write statement run by better-sqlite3 directly, its parameters bound by position.
// drizzle's prepared statement fills its placeholders at every run with entity checks per parameter,
// which, for the 60 of an update of a configuration, showed in the write profile.
import type Database from 'better-sqlite3';
import { is, Param, Placeholder } from 'drizzle-orm';

interface Binder {
  readonly name: string;
  /** The column's own encoding (JSON text, 0/1, milliseconds), as drizzle would apply it. */
  readonly encode: ((value: unknown) => unknown) | null;
}

/** A statement whose parameters are all named placeholders: run with an object holding a value for each. */
export function directStatement(
  sqlite: Database.Database,
  query: { toSQL(): { sql: string; params: unknown[] } },
  /** Encodings of our own for some placeholders, giving what the column's would (a faster JSON text, say). */
  encoders: Record<string, (value: unknown) => unknown> = {},
): (values: Record<string, unknown>) => Database.RunResult {
  const { sql, params } = query.toSQL();
  const binders: Binder[] = params.map((param) => {
    if (is(param, Placeholder)) return { name: param.name, encode: encoders[param.name] ?? null };
    if (is(param, Param) && is(param.value, Placeholder)) {
      const { encoder } = param;
      const name = param.value.name;
      return {
        name,
        encode: encoders[name] ?? (encoder ? (value) => encoder.mapToDriverValue(value) : null),
      };
    }
    throw new Error(`directStatement: a parameter that is not a placeholder in ${sql}`);
  });
  const statement = sqlite.prepare(sql);
  return (values) => {
    const bound = new Array<unknown>(binders.length);
    for (let index = 0; index < binders.length; index++) {
      const { name, encode } = binders[index]!;
      if (!(name in values)) throw new Error(`No value for placeholder "${name}" was provided`);
      bound[index] = encode ? encode(values[name]) : values[name];
    }
    return statement.run(...bound);
  };
}
