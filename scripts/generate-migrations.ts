// npm run db:generate: the migrations of both dialects from their drizzle schemas, under drizzle/<dialect>.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const name = process.argv[2];

for (const config of ['drizzle.config.ts', 'drizzle.postgres.config.ts']) {
  execFileSync(
    process.execPath,
    ['node_modules/drizzle-kit/bin.cjs', 'generate', '--config', config, ...(name ? ['--name', name] : [])],
    { cwd: root, stdio: 'inherit' },
  );
}

// drizzle-kit writes foreign keys as REFERENCES "public"."table"; unqualified, the tables follow
// the connection's search_path, so a deployment (or a test) can keep them in a schema of its own.
const folder = `${root}/drizzle/postgres`;
for (const file of readdirSync(folder).filter((entry) => entry.endsWith('.sql'))) {
  const text = readFileSync(`${folder}/${file}`, 'utf8');
  const unqualified = text.replaceAll('REFERENCES "public".', 'REFERENCES ');
  if (unqualified !== text) writeFileSync(`${folder}/${file}`, unqualified);
}
