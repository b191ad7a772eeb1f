// Fails when schema.graphql breaks clients of the schema on `main` (or SCHEMA_BASE, any git revision)
// in a way that schema-breaks.accepted.json does not name.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readAcceptedBreaks, unacceptedBreaks } from './schema-breaks.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const base = process.env.SCHEMA_BASE ?? 'main';

let before: string;
try {
  before = execFileSync('git', ['show', `${base}:schema.graphql`], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
} catch {
  // A tree outside git (an unpacked release) or without that revision has nothing to compare with.
  console.log(`schema breaks: no schema.graphql at ${base}; nothing to compare with.`);
  process.exit(0);
}

const after = readFileSync(`${root}/schema.graphql`, 'utf8');
const breaks = await unacceptedBreaks(
  before,
  after,
  readAcceptedBreaks(`${root}/schema-breaks.accepted.json`),
);
if (breaks.length > 0) {
  console.error(`schema.graphql breaks clients of the schema at ${base}:`);
  for (const { change } of breaks) console.error(`  ${change}`);
  console.error(
    'Keep the old field or type (deprecate it), or, if clients may bear it, add the change with a reason\n' +
      'to schema-breaks.accepted.json.',
  );
  process.exit(1);
}
console.log(`schema breaks: none against ${base}.`);
