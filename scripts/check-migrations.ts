// Fails when the drizzle schema has changes that no committed migration under drizzle/ holds.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// drizzle-kit takes --out relative to the working directory.
const scratch = `node_modules/.cache/migration-check-${process.pid}`;
mkdirSync(`${root}/${scratch}`, { recursive: true });
try {
  cpSync(`${root}/drizzle/sqlite`, `${root}/${scratch}`, { recursive: true });
  const output = execFileSync(
    process.execPath,
    ['node_modules/drizzle-kit/bin.cjs', 'generate', '--dialect', 'sqlite', '--schema', './src/store/sqlite/schema.ts', '--out', scratch],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (!output.includes('No schema changes')) {
    console.error('The drizzle schema has changes without a migration: run `npm run db:generate` and commit drizzle/.');
    process.exit(1);
  }
  console.log('drizzle migrations are current.');
} finally {
  rmSync(`${root}/${scratch}`, { recursive: true, force: true });
}
