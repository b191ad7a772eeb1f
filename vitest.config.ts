// Test runner settings: the embedded (SQLite) project always; the PostgreSQL project when its servers answer.
import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';
import { missingServices } from './test/support/services.ts';

// graphql ships both index.mjs and index.js; Vite would hand our code the .mjs while yoga
// loads the .js, and two copies break yoga's `instanceof GraphQLError`. Point both at Node's choice.
const require = createRequire(import.meta.url);

/** The store, history and door suites, run again on PostgreSQL; and the suites only PostgreSQL has (replicas). */
const postgresSuites = [
  'test/auth.test.ts',
  'test/cli.test.ts',
  'test/concurrency.test.ts',
  'test/config-schema.test.ts',
  'test/examples.test.ts',
  'test/fan-out.test.ts',
  'test/graphql-over-http.test.ts',
  'test/graphql-update.test.ts',
  'test/history.test.ts',
  'test/openapi.test.ts',
  'test/property.test.ts',
  'test/rest.test.ts',
  'test/security.test.ts',
  'test/subscriptions.test.ts',
  'test/widget-keys.test.ts',
  'test/widget-snapshot.test.ts',
  'test/stream-tickets.test.ts',
  'test/webhooks.test.ts',
  'test/webhook-cli.test.ts',
  'test/well-formed-text.test.ts',
  'test/postgres/**/*.test.ts',
];

const missing = await missingServices();
if (missing.length > 0) {
  const why = missing.map((reason) => `  ${reason}`).join('\n');
  // In CI the servers are part of the machine: their absence is a failure, not a skip.
  if (process.env.CI) throw new Error(`the PostgreSQL and Redis suites cannot run:\n${why}`);
  console.warn(`\nSkipping the PostgreSQL and Redis suites (only the embedded SQLite suite runs):\n${why}\n`);
}

// Generous: tests that start processes (the CLI, a gateway) take several times longer on a busy 2-core machine.
const timeouts = { testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  resolve: { alias: { graphql: require.resolve('graphql') } },
  test: {
    projects: [
      {
        extends: true,
        test: { ...timeouts, name: 'sqlite', include: ['test/**/*.test.ts'], exclude: ['test/postgres/**'] },
      },
      ...(missing.length > 0
        ? []
        : [
            {
              extends: true as const,
              test: {
                ...timeouts,
                name: 'postgres',
                include: postgresSuites,
                globalSetup: ['test/support/drop-stale-schemas.ts'],
                env: { ORG_CONFIG_TEST_STORE: 'postgres' },
              },
            },
          ]),
    ],
  },
});
