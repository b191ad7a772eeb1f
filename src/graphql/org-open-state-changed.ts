// The orgOpenStateChanged subscription: an organisation opening or closing, at the moment it happens.
import type { OpenStateEvent } from '../events/open-state-timer.ts';
import { builder } from './builder.ts';

const OrgOpenStateEventRef = builder.objectRef<OpenStateEvent>('OrgOpenStateEvent').implement({
  description:
    'Whether an organisation is open, as of a moment: the first event is the state now, then one per flip.',
  fields: (t) => ({
    orgId: t.exposeID('orgId', { description: 'The organisation.' }),
    openNow: t.exposeBoolean('openNow', { description: 'Whether it is open.' }),
    at: t.field({
      type: 'DateTime',
      description:
        'When this state was found: the subscription, a flip of the schedule, or a schedule change.',
      resolve: (event) => new Date(event.at),
    }),
    nextChangeAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the state flips next; null when it does not within about two years.',
      resolve: (event) => (event.nextChangeAt === null ? null : new Date(event.nextChangeAt)),
    }),
  }),
});

builder.subscriptionField('orgOpenStateChanged', (t) =>
  t.field({
    type: OrgOpenStateEventRef,
    description:
      'The organisation opening and closing by its openingHours: its state now, then each flip within a second of the moment, and at once when a schedule change flips it. Not a revision: no version, no replay.',
    args: { orgId: t.arg.id({ required: true, description: 'The organisation to follow.' }) },
    subscribe: (_, { orgId }, { actor, service }) => service.followOpenState(actor, String(orgId)),
    // Each event checks the key again: a key revoked meanwhile gets UNAUTHENTICATED.
    resolve: async (event, _, { actor, service }) => {
      await service.assertStillValid(actor);
      return event;
    },
  }),
);
