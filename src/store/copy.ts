// Copies an embedded SQLite database into PostgreSQL: how a single-process deployment grows into replicas.
import type { Revision } from '../config/revision.ts';
import type { PostgresConfigStore } from './postgres/postgres-store.ts';

export { TargetNotEmptyError } from './postgres/postgres-store.ts';

import type { SqliteConfigStore } from './sqlite/sqlite-store.ts';

const pageSize = 1_000;

async function* revisionPages(from: SqliteConfigStore): AsyncIterable<Revision[]> {
  let seq = 0;
  for (;;) {
    const page = await from.revisionsAfter(seq, pageSize);
    yield page;
    if (page.length < pageSize) return;
    seq = page.at(-1)!.seq;
  }
}

/**
 * Every organisation, API key (by hash: the keys in use keep working) and revision, in one
 * transaction: a failed copy leaves the target empty. Refuses a target that holds anything.
 */
export async function copySqliteToPostgres(
  from: SqliteConfigStore,
  to: PostgresConfigStore,
): Promise<{ orgs: number; keys: number; revisions: number }> {
  // One snapshot of the source, so an org and its revisions agree even if something still writes to it.
  return from.readConsistently(async () => {
    const orgs = await from.allOrgs();
    const keys = await from.allApiKeys();
    const { revisions } = await to.importAll({ orgs, keys, revisions: revisionPages(from) });
    return { orgs: orgs.length, keys: keys.length, revisions };
  });
}
