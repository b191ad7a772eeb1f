// Fails when a drizzle schema (SQLite or PostgreSQL) has changes that no committed migration under drizzle/ holds.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dialects = [
  { folder: 'sqlite', dialect: 'sqlite', schema: './src/store/sqlite/schema.ts' },
  { folder: 'postgres', dialect: 'postgresql', schema: './src/store/postgres/schema.ts' },
];

let current = true;
for (const { folder, dialect, schema } of dialects) {
  // drizzle-kit takes --out relative to the working directory.
  const scratch = `node_modules/.cache/migration-check-${folder}-${process.pid}`;
  mkdirSync(`${root}/${scratch}`, { recursive: true });
  try {
    cpSync(`${root}/drizzle/${folder}`, `${root}/${scratch}`, { recursive: true });
    const output = execFileSync(
      process.execPath,
      [
        'node_modules/drizzle-kit/bin.cjs',
        'generate',
        '--dialect',
        dialect,
        '--schema',
        schema,
        '--out',
        scratch,
      ],
      {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    if (!output.includes('No schema changes')) {
      console.error(
        `The ${folder} drizzle schema has changes without a migration: run \`npm run db:generate\` and commit drizzle/.`,
      );
      current = false;
    }
  } finally {
    rmSync(`${root}/${scratch}`, { recursive: true, force: true });
  }
}
if (!current) process.exit(1);
console.log('drizzle migrations are current.');
