// Copies an embedded SQLite database into PostgreSQL: how a single-process deployment grows into replicas.
import type { Revision } from '../config/revision.ts';
import { unstorableTextPaths } from '../config/rules.ts';
import type { PostgresConfigStore } from './postgres/postgres-store.ts';

export { TargetNotEmptyError } from './postgres/postgres-store.ts';

import type { SqliteConfigStore } from './sqlite/sqlite-store.ts';

const pageSize = 1_000;

/**
 * Text PostgreSQL cannot hold (NUL), or that is not Unicode (a lone surrogate), which an older
 * gateway accepted into SQLite. Names where it is, never the value.
 */
export class UnstorableTextError extends Error {
  constructor(
    readonly orgId: string,
    readonly version: number,
    readonly paths: readonly string[],
  ) {
    super(
      `organisation "${orgId}" holds text that PostgreSQL cannot keep as it is (a NUL character or a lone surrogate, INVALID_TEXT) at version ${version}, in ${paths.join(', ')}; nothing was copied`,
    );
    this.name = 'UnstorableTextError';
  }
}

function refuseUnstorable(orgId: string, version: number, value: unknown): void {
  const paths = unstorableTextPaths(value);
  if (paths.length > 0) throw new UnstorableTextError(orgId, version, paths);
}

async function* revisionPages(from: SqliteConfigStore): AsyncIterable<Revision[]> {
  let seq = 0;
  for (;;) {
    const page = await from.revisionsAfter(seq, pageSize);
    for (const revision of page)
      refuseUnstorable(revision.orgId, revision.version, {
        settings: revision.settings,
        changes: revision.changes,
      });
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
    for (const { config } of orgs) refuseUnstorable(config.orgId, config.version, config.settings);
    const keys = await from.allApiKeys();
    const { revisions } = await to.importAll({ orgs, keys, revisions: revisionPages(from) });
    return { orgs: orgs.length, keys: keys.length, revisions };
  });
}
