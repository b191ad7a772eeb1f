// Test runner settings.
import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// graphql ships both index.mjs and index.js; Vite would hand our code the .mjs while yoga
// loads the .js, and two copies break yoga's `instanceof GraphQLError`. Point both at Node's choice.
const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: { alias: { graphql: require.resolve('graphql') } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
