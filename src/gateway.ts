// createGateway: the GraphQL endpoint (and, beside it, the REST routes) as one fetch handler. Never listens.
import { createYoga } from 'graphql-yoga';
import { ConfigService } from './config/service.ts';
import { contextFactory } from './graphql/context.ts';
import { maskError } from './graphql/error-masking.ts';
import { schema } from './graphql/schema.ts';
import type { ConfigStore } from './store/config-store.ts';

export interface GatewayDeps {
  readonly store: ConfigStore;
  readonly logging?: 'debug' | 'info' | 'warn' | 'error' | false;
}

export function createGateway({ store, logging = 'info' }: GatewayDeps) {
  const service = new ConfigService(store);
  return createYoga({
    schema,
    context: contextFactory({ store, service }),
    maskedErrors: { maskError },
    logging,
    graphiql: {
      title: 'Org config gateway',
      headers: JSON.stringify({ 'x-api-key': '<your API key>' }),
    },
  });
}

export type Gateway = ReturnType<typeof createGateway>;
