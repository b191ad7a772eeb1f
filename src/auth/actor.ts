// Who is asking: an API key of one organisation, or the operator at the database (the CLI).
import type { Role } from '../store/config-store.ts';

export type Actor =
  | {
      readonly kind: 'apiKey';
      readonly keyId: string;
      readonly keyHash: string;
      readonly orgId: string;
      readonly role: Role;
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
