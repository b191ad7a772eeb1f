// The listener main.ts serves: the read fast paths in front of the gateway (each passes on what it does not answer).
import type { RequestListener } from 'node:http';
import type { Gateway } from '../gateway.ts';
import { withFastGraphQLRead } from './fast-graphql-read.ts';
import { withFastRestRead } from './fast-rest-read.ts';

export function withFastReads(gateway: Gateway): RequestListener {
  return withFastGraphQLRead(gateway, withFastRestRead(gateway));
}
