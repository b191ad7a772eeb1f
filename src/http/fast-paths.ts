// The listener main.ts serves: the fast paths in front of the gateway (each passes on what it does not answer).
import type { RequestListener } from 'node:http';
import type { Gateway } from '../gateway.ts';
import { withFastGraphQLRead } from './fast-graphql-read.ts';
import { withFastRestRead } from './fast-rest-read.ts';
import { withFastRestWrite } from './fast-rest-write.ts';

export function withFastPaths(gateway: Gateway): RequestListener {
  return withFastRestWrite(gateway, withFastGraphQLRead(gateway, withFastRestRead(gateway)));
}
