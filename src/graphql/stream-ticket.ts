// The createStreamTicket mutation: a single-use ticket for a secret key to open an EventSource stream.
import { builder } from './builder.ts';

const StreamTicketRef = builder.objectRef<{ ticket: string; expiresAt: Date }>('StreamTicket').implement({
  description:
    'Opens one EventSource stream of its organisation in place of the key: GET /graphql?query=…&ticket=…. Single use, valid 60 seconds, bound to the key that minted it.',
  fields: (t) => ({
    ticket: t.exposeString('ticket', { description: 'The ticket: shown once, stored only as a hash.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'When it stops working if unused.' }),
  }),
});

builder.mutationField('createStreamTicket', (t) =>
  t.field({
    type: StreamTicketRef,
    description:
      'A ticket for a secret (admin or adviser) key to open a stream from a browser, so that the key never sits in a URL. Publishable keys need none (WRONG_KEY_KIND).',
    args: { orgId: t.arg.id({ required: true, description: 'The organisation the stream will follow.' }) },
    resolve: (_, { orgId }, { actor, service }) => service.createStreamTicket(actor, String(orgId)),
  }),
);
