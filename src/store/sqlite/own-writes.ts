// What this connection committed itself, kept in memory so the write path and the change feed need
// not read it back from the database (and parse its JSON) a moment later.
import type { OrgConfig } from '../../config/model.ts';
import type { Revision } from '../../config/revision.ts';

/** Enough for every revision committed between two reads of the change feed, and every busy organisation. */
const maxRemembered = 1_000;

/**
 * Filled only after a commit (never inside the transaction, which could still roll back), so all it
 * holds is in the database. A version names one content of an organisation's configuration (every
 * write bumps it; organisations are never deleted), and a seq one revision, so what is found here
 * under the version or seq the database reports is what reading it back would give.
 */
export class OwnWrites {
  private readonly revisions = new Map<number, Revision>();
  private readonly configs = new Map<string, OrgConfig>();
  /** The seq of this connection's latest commit (0: none yet). */
  private latestSeq = 0;

  committed(config: OrgConfig, revision: Revision): void {
    this.configs.delete(config.orgId); // re-inserted last: the least recently written goes first
    this.configs.set(config.orgId, config);
    if (this.configs.size > maxRemembered) this.configs.delete(this.configs.keys().next().value!);
    this.revisions.set(revision.seq, revision);
    this.latestSeq = revision.seq;
    if (this.revisions.size > maxRemembered) this.revisions.delete(this.revisions.keys().next().value!);
  }

  /**
   * This connection appended a revision it does not hand over (an organisation's creation): the
   * revisions remembered no longer say what follows their seqs, so the feed reads the log until
   * the next remembered commit shows an unbroken run again.
   */
  appendedUnremembered(): void {
    this.revisions.clear();
    this.latestSeq = Number.POSITIVE_INFINITY;
  }

  /** The organisation's configuration as this connection last wrote it, if the database is still at that version. */
  configAtVersion(orgId: string, version: number): OrgConfig | undefined {
    const config = this.configs.get(orgId);
    return config?.version === version ? config : undefined;
  }

  /**
   * The revisions after `seq`, oldest first, at most `limit`, when every revision after `seq` up to
   * this connection's latest commit is one it committed (none of another process in between); else
   * undefined. Each commit here appended the newest revision of the log at the time, so these are
   * the whole log after `seq` as of that commit; what others commit later wakes the feed on its own.
   * Forgets the revisions up to `seq`: the feed has them.
   */
  revisionsAfter(seq: number, limit: number): Revision[] | undefined {
    for (const known of this.revisions.keys()) {
      if (known > seq) break;
      this.revisions.delete(known);
    }
    const found: Revision[] = [];
    for (let next = seq + 1; found.length < limit && next <= this.latestSeq; next++) {
      const revision = this.revisions.get(next);
      if (!revision) return undefined;
      found.push(revision);
    }
    return found;
  }
}
