// A committed change of a configuration: who made it, through which door, and what changed.
import type { OrgConfig, OrgConfigSettings } from './model.ts';
import type { SettingChange } from './patch.ts';

/** The protocol a change came through. `seed` is the demo organisation of a first start. */
export type Door = 'graphql' | 'rest' | 'cli' | 'seed';

/** The author of a revision: an API key (its id, never the key) or the operator at the database. */
export interface RevisionActor {
  readonly keyId: string | null;
  readonly role: 'admin' | 'adviser' | 'operator';
}

export interface RevisionMeta {
  readonly actor: RevisionActor;
  readonly door: Door;
  /** Set when the change restores the settings of an earlier version. */
  readonly revertedToVersion?: number | null;
}

export interface Revision extends RevisionMeta {
  /** Position in the store's log of revisions, across organisations: the order of commits. */
  readonly seq: number;
  readonly orgId: string;
  /** The version this revision made (1 for the creation of the organisation). */
  readonly version: number;
  readonly changedAt: Date;
  /** The settings that changed, with their values before and after; at creation, every setting. */
  readonly changes: readonly SettingChange[];
  /** The whole settings as of this version. */
  readonly settings: OrgConfigSettings;
}

export function configAt(revision: Revision): OrgConfig {
  return {
    orgId: revision.orgId,
    version: revision.version,
    updatedAt: revision.changedAt,
    settings: revision.settings,
  };
}
