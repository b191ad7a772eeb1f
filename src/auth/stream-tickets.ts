// Stream tickets: a secret key cannot sit in an EventSource URL, so it mints a ticket (single use,
// valid 60 s, bound to its key and organisation) and the stream's URL carries that. Stored hashed
// in the database, so any replica can redeem it, once.
import { randomBytes } from 'node:crypto';
import type { ConfigStore, StoredApiKey } from '../store/config-store.ts';
import type { Actor } from './actor.ts';
import { actorOfKey, hashApiKey, isExpired } from './api-keys.ts';

export const ticketLifetimeMs = 60_000;
export const ticketPrefix = 'st_';

/** Mints a ticket for the key's organisation; its text exists only in the answer. */
export async function mintStreamTicket(
  store: ConfigStore,
  actor: Extract<Actor, { kind: 'apiKey' }>,
  orgId: string,
  nowMs: number,
): Promise<{ ticket: string; expiresAt: Date }> {
  const ticket = `${ticketPrefix}${randomBytes(24).toString('base64url')}`;
  const expiresAt = new Date(nowMs + ticketLifetimeMs);
  await store.createStreamTicket({ ticketHash: hashApiKey(ticket), keyId: actor.keyId, orgId, expiresAt });
  return { ticket, expiresAt };
}

export type TicketRefusalCode =
  | 'TICKET_UNKNOWN'
  | 'TICKET_REUSED'
  | 'TICKET_EXPIRED'
  | 'KEY_REVOKED'
  | 'KEY_EXPIRED';

export type TicketCheck =
  | { readonly ok: true; readonly actor: Actor; readonly record: StoredApiKey }
  | { readonly ok: false; readonly code: TicketRefusalCode; readonly message: string };

const refused = (code: TicketRefusalCode, message: string): TicketCheck => ({ ok: false, code, message });

/**
 * The actor of a ticket presented to open a stream, or why not: its key's actor, which sees its own
 * organisation only (the one the ticket was minted for), so a stream of another one answers
 * NOT_FOUND as for the key itself. Any presentation spends it: a second one is TICKET_REUSED,
 * whatever the first one's outcome. The messages name nothing but the ticket itself.
 */
export async function redeemStreamTicket(
  store: ConfigStore,
  ticket: string,
  nowMs: number,
): Promise<TicketCheck> {
  const found = ticket.startsWith(ticketPrefix)
    ? await store.useStreamTicket(hashApiKey(ticket), new Date(nowMs))
    : undefined;
  if (!found) return refused('TICKET_UNKNOWN', 'unknown stream ticket: mint one with createStreamTicket');
  if (found.usedAt !== null) return refused('TICKET_REUSED', 'this stream ticket was used already');
  if (found.expiresAt.getTime() <= nowMs)
    return refused('TICKET_EXPIRED', 'this stream ticket has expired (they last 60 seconds)');
  const key = await store.findApiKeyById(found.keyId);
  if (!key) return refused('KEY_REVOKED', 'the API key of this stream ticket has been revoked');
  if (isExpired(key, nowMs)) return refused('KEY_EXPIRED', 'the API key of this stream ticket has expired');
  return { ok: true, actor: actorOfKey(key, key.keyHash), record: key };
}
