// The orgConfigChanged subscription: every committed change of an organisation, as it happens.

import { type Actor, canWrite, isPublishable } from '../auth/actor.ts';
import type { Revision } from '../config/revision.ts';
import { configAt } from '../config/revision.ts';
import { publicChanges } from '../config/visibility.ts';
import { builder } from './builder.ts';
import { OrgConfigRef } from './org-config.ts';
import { DoorEnum, RevisionActorRef, SettingChangeRef } from './org-config-history.ts';
import { rememberEventSource } from './shared-events.ts';

/** A publishable key sees only the changes of public settings. */
function changesSeenBy(actor: Actor | null, revision: Revision) {
  return isPublishable(actor) ? publicChanges(revision.changes) : [...revision.changes];
}

const OrgConfigChangedEventRef = builder.objectRef<Revision>('OrgConfigChangedEvent').implement({
  description: 'A committed change of a configuration. Over SSE its event id is the version.',
  fields: (t) => ({
    version: t.exposeInt('version', { description: 'The version the change made.' }),
    changedFields: t.stringList({
      description:
        'Paths in OrgConfig of the settings that changed (for a publishable key, the public ones only).',
      resolve: (revision, _, { actor }) => changesSeenBy(actor, revision).map((change) => change.path),
    }),
    changes: t.field({
      type: [SettingChangeRef],
      description:
        'The settings that changed, with before and after values (for a publishable key, the public ones only).',
      resolve: (revision, _, { actor }) => changesSeenBy(actor, revision),
    }),
    actor: t.field({
      type: RevisionActorRef,
      nullable: true,
      description:
        'Who made the change; null unless the subscriber has an admin key (as for orgConfigHistory).',
      resolve: (revision, _, { actor }) => (actor && canWrite(actor) ? revision.actor : null),
    }),
    door: t.field({
      type: DoorEnum,
      description: 'How the change came in.',
      resolve: (revision) => revision.door,
    }),
    changedAt: t.expose('changedAt', { type: 'DateTime', description: 'When the change was committed.' }),
    config: t.field({
      type: OrgConfigRef,
      description: 'The whole configuration as of this version: select what you need.',
      resolve: configAt,
    }),
  }),
});

/** SSE clients that reconnect send the id of the last event they had: our version. */
function lastEventVersion(request: Request | undefined): number | null {
  const id = request?.headers.get('last-event-id');
  return id && /^\d+$/.test(id) ? Number(id) : null;
}

builder.subscriptionField('orgConfigChanged', (t) =>
  t.field({
    type: OrgConfigChangedEventRef,
    description:
      'Every committed change of the organisation, in version order, each once. With sinceVersion (or, over SSE, Last-Event-ID; given both, the later) the changes after that version come first. With fields (setting or group paths such as "branding.color" or "sla"), only the changes touching them.',
    args: {
      orgId: t.arg.id({ required: true, description: 'The organisation to follow.' }),
      fields: t.arg.stringList({
        required: false,
        description: 'Only changes touching these setting or group paths, e.g. ["branding.color", "sla"].',
      }),
      sinceVersion: t.arg.int({
        required: false,
        description: 'Deliver first every change after this version: the version the client last saw.',
      }),
    },
    subscribe: async (_, { orgId, fields, sinceVersion }, context) => {
      const { actor, service, request } = context;
      // An EventSource reconnecting sends its URL's sinceVersion again, and Last-Event-ID: the later wins.
      const lastEvent = lastEventVersion(request);
      const stream = await service.subscribe(actor, String(orgId), {
        sinceVersion:
          sinceVersion == null || lastEvent == null
            ? (sinceVersion ?? lastEvent)
            : Math.max(sinceVersion, lastEvent),
        fields,
      });
      // Its events are executed once per distinct selection (shared-events.ts).
      return rememberEventSource(context, stream);
    },
    // Each event checks the key again: a key revoked meanwhile gets UNAUTHENTICATED, not the change.
    resolve: async (revision, _, { actor, service }) => {
      await service.assertStillValid(actor);
      return revision;
    },
  }),
);
