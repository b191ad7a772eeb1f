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

describe('the GraphQL schema', () => {
  it('describes every type, field, argument and enum value of ours', async () => {
    const {
      isEnumType,
      isInputObjectType,
      isInterfaceType,
      isObjectType,
      isUnionType,
      isScalarType,
      isSpecifiedScalarType,
    } = await import('graphql');
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || (isScalarType(type) && isSpecifiedScalarType(type))) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : [])
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isEnumType(type))
        for (const value of type.getValues())
          if (!value.description) missing.push(`${type.name}.${value.name}`);
      if (isUnionType(type) && !type.description) missing.push(type.name);
    }
    expect(missing).toEqual([]);
  });
});
