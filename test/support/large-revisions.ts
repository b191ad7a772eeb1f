// Revisions as large as one organisation can make them: each swaps a full list of long origins and
// the longest consent text, so its changes hold both lists and both texts.
import { operator } from '../../src/auth/actor.ts';
import { limits } from '../../src/config/rules.ts';
import type { ConfigService } from '../../src/config/service.ts';

/** An origin of about 250 characters (four 60-letter labels), distinct per revision and index. */
function longOrigin(revision: number, index: number): string {
  const label = (tag: string) => `${tag}${'a'.repeat(60 - tag.length)}`;
  return `https://${label(`r${revision}`)}.${label(`i${index}`)}.${label('x')}.example.com`;
}

export async function writeLargeRevisions(
  service: ConfigService,
  orgId: string,
  count: number,
): Promise<void> {
  for (let revision = 0; revision < count; revision++) {
    await service.update(operator, {
      orgId,
      patch: {
        website: {
          allowedOrigins: Array.from({ length: limits.listItems }, (_, index) => longOrigin(revision, index)),
        },
        privacy: { agreementText: `${revision} `.padEnd(limits.agreementLength, 'consent ') },
      },
      door: 'cli',
    });
  }
}
