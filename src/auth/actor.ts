// Who is asking: an API key of one organisation, or the operator at the database (the CLI).
import type { Role } from '../store/config-store.ts';

export type Actor =
  | {
      readonly kind: 'apiKey';
      readonly keyId: string;
      readonly keyHash: string;
      readonly orgId: string;
      /** admin and adviser keys are secrets; a widget key (pk_…) reads the public settings only. */
      readonly role: Role;
      /** The top-level setting groups the key may change; null: every group (its role permitting). */
      readonly groups: readonly string[] | null;
      /** When the key stops working, as stored when it was read; null: never. */
      readonly expiresAt: Date | null;
    }
  | { readonly kind: 'operator' };

export const operator: Actor = { kind: 'operator' };

/** Whether the actor may see the organisation at all; one that may not is told it does not exist. */
export function canSeeOrg(actor: Actor, orgId: string): boolean {
  return actor.kind === 'operator' || actor.orgId === orgId;
}

export function canWrite(actor: Actor): boolean {
  return actor.kind === 'operator' || actor.role === 'admin';
}

/** A publishable widget key: it reads public settings only, and never writes nor sees history. */
export function isPublishable(actor: Actor | null | undefined): boolean {
  return actor?.kind === 'apiKey' && actor.role === 'widget';
}
