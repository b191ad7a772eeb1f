// npm run build: the gateway as one ES module, dist/main.js, for `node dist/main.js` (npm run start:built).
// Bundled with its dependencies (better-sqlite3, a native module, stays in node_modules), so a start
// neither compiles TypeScript nor resolves hundreds of modules: it is ready in about half the time.
import { build } from 'esbuild';

const outIndex = process.argv.indexOf('--outfile');
const outfile =
  outIndex > 0 ? process.argv[outIndex + 1]! : new URL('../dist/main.js', import.meta.url).pathname;

await build({
  entryPoints: [new URL('../src/main.ts', import.meta.url).pathname],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // GraphiQL's page (9 MB, graphql/graphiql.ts) is imported from node_modules when first asked for.
  external: ['better-sqlite3', '@graphql-yoga/render-graphiql'],
  // CommonJS dependencies inside an ES module still call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  logLevel: 'warning',
});
