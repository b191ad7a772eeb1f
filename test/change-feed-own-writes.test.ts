// The change feed takes this process's own commits from the store's memory; a commit it does not
// remember (an organisation's creation) must still reach it at once, not at the next write.
import { afterEach, expect, it, vi } from 'vitest';
import { operator } from '../src/auth/actor.ts';
import type { Revision } from '../src/config/revision.ts';
import { ConfigService } from '../src/config/service.ts';
import { exampleSettings } from '../src/demo.ts';
import { createTestBackend } from './helpers.ts';

let backend: Awaited<ReturnType<typeof createTestBackend>> | undefined;
afterEach(async () => {
  await backend?.close();
});

it('delivers an organisation created after an update of another, in commit order', async () => {
  backend = await createTestBackend();
  const service = new ConfigService(backend.store, backend.events);
  const seen: Revision[] = [];
  backend.events.watchAll((revision) => seen.push(revision));
  await service.createOrg(operator, 'demo', exampleSettings());
  await service.update(operator, { orgId: 'demo', patch: { branding: { color: '#123456' } }, door: 'cli' });
  await vi.waitFor(
    () =>
      expect(seen.map((revision) => [revision.orgId, revision.version])).toEqual([
        ['demo', 1],
        ['demo', 2],
      ]),
    { timeout: 2_000 },
  );
  await service.createOrg(operator, 'later');
  await vi.waitFor(() => expect(seen.map((revision) => revision.orgId)).toEqual(['demo', 'demo', 'later']), {
    timeout: 2_000,
  });
  await service.update(operator, { orgId: 'later', patch: { branding: { color: '#654321' } }, door: 'cli' });
  await vi.waitFor(
    () =>
      expect(seen.map((revision) => [revision.orgId, revision.version])).toEqual([
        ['demo', 1],
        ['demo', 2],
        ['later', 1],
        ['later', 2],
      ]),
    { timeout: 2_000 },
  );
});
