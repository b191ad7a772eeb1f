// Who may open a widget door (the snapshot, the preview): a publishable key of the organisation
// asked for. Every refusal about the key itself answers as an unknown organisation would, so that
// nothing tells which organisations exist.
import type { Actor } from '../auth/actor.ts';
import type { EdgeRequest } from '../edge/edge.ts';

export interface WidgetRefusal {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
}

/**
 * Why `actor` may not open the widget door of `orgId`, or null when it may. `keyGiven`: the request
 * named a key, which the edge did not find (unknown, revoked): it answers as an unknown organisation.
 */
export function widgetRefusal(actor: Actor | null, keyGiven: boolean, orgId: string): WidgetRefusal | null {
  if (actor?.kind === 'apiKey' && actor.role !== 'widget')
    return {
      status: 403,
      code: 'WRONG_KEY_KIND',
      detail:
        'widget doors are opened with a publishable (pk_) key in ?key=; a secret key is not for web pages',
    };
  if (!actor && !keyGiven)
    return { status: 401, code: 'UNAUTHENTICATED', detail: 'a publishable (pk_) key is required as ?key=' };
  if (actor?.kind !== 'apiKey' || actor.orgId !== orgId)
    return { status: 404, code: 'NOT_FOUND', detail: `organisation "${orgId}" not found` };
  return null;
}

/** Whether the request named a key at all (in its URL or in x-api-key). */
export function keyGiven(request: EdgeRequest): boolean {
  return request.credentialsFromUrl || request.req.headers['x-api-key'] !== undefined;
}
