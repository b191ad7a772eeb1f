// One attempt at delivering one revision to one endpoint: check the address, sign, send, log. Shared by the worker and manual redelivery.
import type { Revision } from '../config/revision.ts';
import {
  type AddressPolicy,
  AddressRefusedError,
  type Resolver,
  resolveTarget,
  systemResolver,
} from './address-policy.ts';
import { defaultSendLimits, type SendLimits, type SendOutcome, sendWebhook } from './sender.ts';
import { deliveryBody, messageIdOf, signatureHeaders } from './signing.ts';
import type { DeliveryAttempt, WebhookRecord, WebhookStore } from './webhook-store.ts';

/** What an attempt did, for metrics (the worker's events): no URL, secret or answer in it. */
export interface DeliveryEvent {
  readonly kind: 'delivered' | 'failed' | 'refused';
  readonly webhookId: string;
  readonly orgId: string;
  readonly version: number;
  readonly manual: boolean;
  readonly status: number | null;
  readonly durationMs: number;
}

export interface DeliveryDeps {
  readonly store: WebhookStore;
  readonly policy: AddressPolicy;
  readonly resolver?: Resolver;
  readonly limits?: SendLimits;
  readonly now?: () => Date;
  /** Told of every attempt (a metrics registry counts them). */
  readonly onAttempt?: (event: DeliveryEvent) => void;
}

/** The secrets that sign now: the current one, and the previous one while its overlap lasts. */
export function signingSecrets(webhook: WebhookRecord, now: Date): string[] {
  return webhook.previousSecret && webhook.previousSecretUntil && webhook.previousSecretUntil > now
    ? [webhook.secret, webhook.previousSecret]
    : [webhook.secret];
}

/** Sends the revision to the endpoint once and logs the attempt. Never throws for the receiver's failures. */
export async function attemptDelivery(
  deps: DeliveryDeps,
  webhook: WebhookRecord,
  revision: Revision,
  options: { attempt: number; manual: boolean },
): Promise<DeliveryAttempt> {
  const now = deps.now?.() ?? new Date();
  const url = new URL(webhook.url);
  let outcome: SendOutcome;
  let refused = false;
  try {
    // Checked on every attempt: what the name resolves to may have changed since the last one.
    const target = await resolveTarget(url, deps.policy, deps.resolver ?? systemResolver);
    const body = deliveryBody(revision);
    const messageId = messageIdOf(revision.orgId, revision.version);
    const headers = signatureHeaders(messageId, now, body, signingSecrets(webhook, now));
    outcome = await sendWebhook(url, target, body, headers, deps.limits ?? defaultSendLimits);
  } catch (error) {
    if (!(error instanceof AddressRefusedError)) throw error;
    refused = true;
    outcome = { status: null, error: `refused: ${error.message}`, excerpt: null, durationMs: 0 };
  }
  const delivered = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
  const logged = await deps.store.recordAttempt({
    webhookId: webhook.id,
    orgId: revision.orgId,
    version: revision.version,
    messageId: messageIdOf(revision.orgId, revision.version),
    attempt: options.attempt,
    manual: options.manual,
    attemptedAt: now,
    durationMs: outcome.durationMs,
    status: outcome.status,
    error: outcome.error,
    excerpt: outcome.excerpt,
    delivered,
  });
  deps.onAttempt?.({
    kind: delivered ? 'delivered' : refused ? 'refused' : 'failed',
    webhookId: webhook.id,
    orgId: webhook.orgId,
    version: revision.version,
    manual: options.manual,
    status: outcome.status,
    durationMs: outcome.durationMs,
  });
  return logged;
}
