// The demo organisation of a first start: the documented example configuration and an admin key.
import { readFileSync } from 'node:fs';
import { operator } from './auth/actor.ts';
import { createApiKey } from './auth/api-keys.ts';
import { OrgExistsError } from './config/errors.ts';
import { settingsFromLegacy } from './config/legacy.ts';
import type { OrgConfigSettings } from './config/model.ts';
import type { ConfigService } from './config/service.ts';
import { packagePath } from './package-root.ts';
import type { ConfigStore } from './store/config-store.ts';

export const demoOrgId = 'demo';

/** The documented example object (spec/org-config.example.json), as settings (zone UTC: the same offsets whenever read). */
export function exampleSettings(): OrgConfigSettings {
  const example = JSON.parse(readFileSync(packagePath('spec', 'org-config.example.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  return settingsFromLegacy(example, 0);
}

/**
 * Creates the demo organisation and its admin key when the database holds no organisation; answers
 * the key. Of several replicas starting at once on an empty database, one creates it, the others
 * answer null.
 */
export async function seedDemoIfEmpty(store: ConfigStore, service: ConfigService): Promise<string | null> {
  if ((await store.listOrgs()).length > 0) return null;
  try {
    await service.createOrg(operator, demoOrgId, exampleSettings(), 'seed');
  } catch (error) {
    if (error instanceof OrgExistsError) return null;
    throw error;
  }
  const { key } = await createApiKey(store, demoOrgId, 'admin');
  return key;
}
