// schema.graphql and the drizzle migrations are generated and committed; they must match the code.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/schema.ts';

describe('generated files', () => {
  it('schema.graphql is current (npm run schema:print)', () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(`${printSchema(lexicographicSortSchema(schema))}\n`);
  });

  it('drizzle migrations hold every change of the drizzle schema (npm run db:generate)', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/check-migrations.ts'], {
      cwd: new URL('..', import.meta.url).pathname,
      encoding: 'utf8',
    });
    expect(output).toContain('drizzle migrations are current');
  });
});
