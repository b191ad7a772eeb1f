// The revision log on PostgreSQL is read in commit order: writers in several processes (pools here)
// cannot make a change feed skip a revision that committed after a later-numbered one.
import { afterEach, describe, expect, it } from 'vitest';
import { operator } from '../../src/auth/actor.ts';
import { openBackend } from '../../src/backend.ts';
import type { Revision } from '../../src/config/revision.ts';
import { ConfigService } from '../../src/config/service.ts';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { until } from '../helpers.ts';
import { createPostgresSchema } from '../support/databases.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the revision log on PostgreSQL', () => {
  it('hands a change feed every revision of concurrent writers in other pools exactly once, each org in version order', async () => {
    const database = await createPostgresSchema();
    cleanups.push(() => database.drop());
    const watcher = await openBackend(
      { databaseUrl: database.url, changeFeedCatchUpMs: 3_600_000 },
      { onError: (error) => console.error(error) },
    );
    cleanups.push(() => watcher.close());
    const seen: Revision[] = [];
    watcher.events.watchAll((revision) => seen.push(revision));

    const writers = await Promise.all([1, 2, 3].map(() => openPostgresStore(database.url)));
    cleanups.push(async () => void (await Promise.all(writers.map((store) => store.close()))));
    const orgs = ['a', 'b', 'c', 'd', 'e'];
    for (const orgId of orgs) await new ConfigService(writers[0]!).createOrg(operator, orgId);
    const perWriter = 30;
    await Promise.all(
      writers.map((store, w) =>
        Promise.all(
          Array.from({ length: perWriter }, (_, i) =>
            new ConfigService(store).update(operator, {
              orgId: orgs[(w + i) % orgs.length]!,
              patch: { branding: { color: `#${(w * perWriter + i).toString(16).padStart(6, '0')}` } },
              expectedVersion: null,
              door: 'cli',
            }),
          ),
        ),
      ),
    );

    const total = orgs.length + writers.length * perWriter;
    await until(() => seen.length >= total, 10_000);
    expect(seen).toHaveLength(total);
    const seqs = seen.map((revision) => revision.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    for (const orgId of orgs) {
      const versions = seen
        .filter((revision) => revision.orgId === orgId)
        .map((revision) => revision.version);
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    }
  });
});
