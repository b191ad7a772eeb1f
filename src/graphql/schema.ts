// The GraphQL schema: imports every type module, then builds.
import { builder } from './builder.ts';
import './errors.ts';
import './node.ts';
import './org-config.ts';
import './org-config-history.ts';
import './org-config-changed.ts';
import './stream-ticket.ts';
import './update-org-config.ts';
import './webhooks.ts';

export const schema = builder.toSchema({ sortSchema: true });
