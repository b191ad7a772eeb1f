// Standard Webhooks: the message id, body and signature headers of a revision's delivery.
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Revision } from '../config/revision.ts';

/** A new signing secret in the Standard Webhooks form: whsec_ and 32 random bytes in base64. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The same for every endpoint and attempt of one organisation's version, so receivers can drop repeats. */
export function messageIdOf(orgId: string, version: number): string {
  return `msg_${orgId}_${version}`;
}

export const eventType = 'org_config.changed';

/** The body of a revision's delivery: the Standard Webhooks envelope around the change and the whole configuration. */
export function deliveryBody(revision: Revision): string {
  return JSON.stringify({
    type: eventType,
    timestamp: revision.changedAt.toISOString(),
    data: {
      orgId: revision.orgId,
      version: revision.version,
      changedAt: revision.changedAt.toISOString(),
      door: revision.door,
      actor: revision.actor,
      revertedToVersion: revision.revertedToVersion ?? null,
      changes: revision.changes,
      config: revision.settings,
    },
  });
}

/**
 * The three headers, signed at `now` with each secret given: during a rotation both the new and the
 * previous secret sign, space-separated, so receivers still holding the old one accept it.
 */
export function signatureHeaders(
  messageId: string,
  now: Date,
  body: string,
  secrets: readonly string[],
): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(messageId, now, body)).join(' '),
  };
}
