// Webhook endpoints in GraphQL: Webhook and WebhookDelivery, the webhooks query, and create/update/delete/redeliver mutations.
import { ConfigValidationError, OrgNotFoundError } from '../config/errors.ts';
import { WebhookNotFoundError } from '../webhooks/errors.ts';
import { maxDeliveryPage, type WebhookService, webhookGlobalId } from '../webhooks/service.ts';
import type { DeliveryAttempt, WebhookRecord } from '../webhooks/webhook-store.ts';
import { builder } from './builder.ts';
import type { Context } from './context.ts';
import { ErrorInterface } from './errors.ts';

function webhooksOf(context: Context): WebhookService {
  if (!context.webhooks) throw new Error('this gateway has no webhook store');
  return context.webhooks;
}

builder.objectType(WebhookNotFoundError, {
  name: 'WebhookNotFound',
  description: 'No such webhook, or not one of an organisation this API key belongs to.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ id: t.exposeID('webhookId', { description: 'The webhook asked for.' }) }),
});

export const WebhookDeliveryRef = builder.objectRef<DeliveryAttempt>('WebhookDelivery').implement({
  description: 'One attempt at delivering one change to a webhook.',
  fields: (t) => ({
    id: t.id({
      description: 'Unique across types: WebhookDelivery:<number>.',
      resolve: (attempt) => `WebhookDelivery:${attempt.id}`,
    }),
    version: t.exposeInt('version', { description: 'The version of the change sent.' }),
    messageId: t.exposeString('messageId', {
      description: 'The webhook-id header: the same for every attempt at one version of the organisation.',
    }),
    attempt: t.exposeInt('attempt', {
      description: '1 for the first attempt at this change, 2 for its first retry, ...',
    }),
    manual: t.exposeBoolean('manual', { description: 'Sent by redeliverWebhook rather than by the worker.' }),
    attemptedAt: t.expose('attemptedAt', { type: 'DateTime', description: 'When the attempt started.' }),
    durationMs: t.exposeInt('durationMs', { description: 'How long it took, in milliseconds.' }),
    status: t.exposeInt('status', {
      nullable: true,
      description: 'The HTTP status answered; null when none came.',
    }),
    error: t.exposeString('error', {
      nullable: true,
      description:
        'Why no answer came (a time-out, a refused connection, an address refused), when none did.',
    }),
    excerpt: t.exposeString('excerpt', {
      nullable: true,
      description: 'The start of the answer body (at most 200 characters).',
    }),
    delivered: t.exposeBoolean('delivered', { description: 'Whether the receiver answered 2xx.' }),
  }),
});

export const WebhookRef = builder.objectRef<WebhookRecord>('Webhook').implement({
  description:
    'An endpoint that receives every committed change of its organisation (or those touching its fields), signed as Standard Webhooks, in version order.',
  fields: (t) => ({
    id: t.id({
      description: 'Unique across types: Webhook:wh_….',
      resolve: (webhook) => webhookGlobalId(webhook.id),
    }),
    webhookId: t.exposeString('id', { description: 'The id the command line shows (wh_…).' }),
    orgId: t.exposeID('orgId', { description: 'The organisation whose changes it receives.' }),
    url: t.exposeString('url', { description: 'Where changes are POSTed.' }),
    fields: t.exposeStringList('fields', {
      description: 'Only changes touching these setting or group paths; empty: every change.',
    }),
    enabled: t.exposeBoolean('enabled', { description: 'False while disabled: nothing is sent.' }),
    disabledReason: t.exposeString('disabledReason', {
      nullable: true,
      description: 'Why it was disabled (repeated failures, or an admin).',
    }),
    disabledAt: t.expose('disabledAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When it was disabled.',
    }),
    deliveredVersion: t.exposeInt('cursorVersion', {
      description: 'Every change up to this version was delivered (or did not touch its fields).',
    }),
    failures: t.exposeInt('failures', { description: 'Failed attempts at the next change.' }),
    nextAttemptAt: t.expose('nextAttemptAt', {
      type: 'DateTime',
      description: 'A failed change is not tried again before this time.',
    }),
    previousSecretExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'After a rotation, the previous secret also signs until this time.',
      resolve: (webhook) =>
        webhook.previousSecretUntil && webhook.previousSecretUntil > new Date()
          ? webhook.previousSecretUntil
          : null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When an admin last changed it.' }),
    deliveries: t.field({
      type: [WebhookDeliveryRef],
      description: `Its delivery log, newest first (at most ${maxDeliveryPage} at a time; kept for a bounded time).`,
      args: {
        first: t.arg.int({ required: false, defaultValue: 20, description: 'How many attempts.' }),
        before: t.arg.id({
          required: false,
          description: 'Only attempts older than this WebhookDelivery id.',
        }),
        version: t.arg.int({ required: false, description: 'Only attempts at this version.' }),
      },
      resolve: (webhook, args, context) =>
        webhooksOf(context).deliveries(context.actor, webhook.id, {
          first: args.first ?? 20,
          beforeId:
            args.before == null ? null : Number(String(args.before).replace(/^WebhookDelivery:/, '')) || null,
          version: args.version,
        }),
    }),
  }),
});

builder.queryField('webhooks', (t) =>
  t.field({
    type: [WebhookRef],
    description: 'The webhooks of an organisation (admin keys only).',
    args: { orgId: t.arg.id({ required: true, description: 'The organisation.' }) },
    resolve: (_, { orgId }, context) => webhooksOf(context).list(context.actor, String(orgId)),
  }),
);

const webhookSuccess = (name: string, description: string) =>
  builder.objectRef<{ webhook: WebhookRecord; secret: string | null }>(name).implement({
    description,
    fields: (t) => ({
      webhook: t.field({
        type: WebhookRef,
        description: 'The webhook as stored.',
        resolve: (r) => r.webhook,
      }),
      secret: t.exposeString('secret', {
        nullable: true,
        description:
          'The signing secret (whsec_…), shown this once: at creation and after rotateSecret; null otherwise.',
      }),
    }),
  });

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  description: 'A new endpoint for an organisation.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The organisation whose changes it receives.' }),
    url: t.string({
      required: true,
      description:
        'An https URL whose host is a public address (plain http and private addresses only where the settings allow).',
    }),
    fields: t.stringList({
      required: false,
      description:
        'Only changes touching these setting or group paths, as for orgConfigChanged; empty or absent: every change.',
    }),
  }),
});

builder.mutationField('createWebhook', (t) =>
  t.field({
    type: webhookSuccess(
      'CreateWebhookSuccess',
      'The endpoint receives every change after the current version.',
    ),
    description: 'Adds a webhook to an organisation (admin keys only). Its secret is answered this once.',
    args: { input: t.arg({ type: CreateWebhookInput, required: true, description: 'The endpoint.' }) },
    errors: {
      types: [ConfigValidationError, OrgNotFoundError],
      union: { name: 'CreateWebhookResult', description: 'The new webhook, or why none was created.' },
      directResult: true,
    },
    resolve: (_, { input }, context) =>
      webhooksOf(context).create(context.actor, {
        orgId: String(input.orgId),
        url: input.url,
        fields: input.fields,
      }),
  }),
);

const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  description: 'A change of a webhook: fields left out stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The webhook (Webhook:wh_… or wh_…).' }),
    url: t.string({ required: false, description: 'A new URL, checked as at creation.' }),
    fields: t.stringList({
      required: false,
      description: 'New setting or group paths; an empty list: every change.',
    }),
    enabled: t.boolean({
      required: false,
      description: 'False disables it; true enables it again, resuming after the last change delivered.',
    }),
    rotateSecret: t.boolean({
      required: false,
      description:
        'A new secret, answered this once; the previous one also signs for the overlap (24 hours).',
    }),
  }),
});

builder.mutationField('updateWebhook', (t) =>
  t.field({
    type: webhookSuccess('UpdateWebhookSuccess', 'The webhook as changed.'),
    description: 'Changes, disables, enables or rotates the secret of a webhook (admin keys only).',
    args: { input: t.arg({ type: UpdateWebhookInput, required: true, description: 'What to change.' }) },
    errors: {
      types: [ConfigValidationError, WebhookNotFoundError],
      union: { name: 'UpdateWebhookResult', description: 'The changed webhook, or why nothing changed.' },
      directResult: true,
    },
    resolve: (_, { input }, context) =>
      webhooksOf(context).update(context.actor, {
        id: String(input.id),
        url: input.url,
        fields: input.fields,
        enabled: input.enabled,
        rotateSecret: input.rotateSecret,
      }),
  }),
);

const DeleteWebhookInput = builder.inputType('DeleteWebhookInput', {
  description: 'The webhook to delete.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The webhook (Webhook:wh_… or wh_…).' }) }),
});

const DeleteWebhookSuccess = builder.objectRef<WebhookRecord>('DeleteWebhookSuccess').implement({
  description: 'The webhook and its delivery log are deleted.',
  fields: (t) => ({
    deletedId: t.id({
      description: 'The id it had (Webhook:wh_…).',
      resolve: (webhook) => webhookGlobalId(webhook.id),
    }),
  }),
});

builder.mutationField('deleteWebhook', (t) =>
  t.field({
    type: DeleteWebhookSuccess,
    description: 'Deletes a webhook and its delivery log (admin keys only).',
    args: { input: t.arg({ type: DeleteWebhookInput, required: true, description: 'Which webhook.' }) },
    errors: {
      types: [WebhookNotFoundError],
      union: { name: 'DeleteWebhookResult', description: 'The deleted webhook, or why nothing was deleted.' },
      directResult: true,
    },
    resolve: (_, { input }, context) => webhooksOf(context).delete(context.actor, String(input.id)),
  }),
);

const RedeliverWebhookInput = builder.inputType('RedeliverWebhookInput', {
  description: 'A change to send to a webhook again.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The webhook (Webhook:wh_… or wh_…).' }),
    version: t.int({ required: true, description: 'The version of the organisation to send.' }),
  }),
});

const RedeliverWebhookSuccess = builder.objectRef<DeliveryAttempt>('RedeliverWebhookSuccess').implement({
  description: 'The attempt made (delivered or not: see its status).',
  fields: (t) => ({
    delivery: t.field({
      type: WebhookDeliveryRef,
      description: 'The attempt, as logged.',
      resolve: (a) => a,
    }),
  }),
});

builder.mutationField('redeliverWebhook', (t) =>
  t.field({
    type: RedeliverWebhookSuccess,
    description:
      "Sends one change to a webhook again, now, with the webhook-id it had (admin keys only). The webhook's position in its changes does not move.",
    args: {
      input: t.arg({ type: RedeliverWebhookInput, required: true, description: 'Which change, where.' }),
    },
    errors: {
      types: [WebhookNotFoundError, OrgNotFoundError],
      union: { name: 'RedeliverWebhookResult', description: 'The attempt, or why none was made.' },
      directResult: true,
    },
    resolve: (_, { input }, context) =>
      webhooksOf(context).redeliver(context.actor, String(input.id), input.version),
  }),
);
