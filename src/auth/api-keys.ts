// API keys: random UUIDs handed out once, stored only as SHA-256 hashes.
import { hash, randomBytes, randomUUID } from 'node:crypto';
import type { ApiKeyRecord, ConfigStore, Role } from '../store/config-store.ts';
import type { Actor } from './actor.ts';

/**
 * A key has 122 random bits, so a fast unsalted hash is enough: it cannot be brute-forced, and
 * looking the key up by its hash never compares secrets byte by byte.
 */
export function hashApiKey(key: string): string {
  // The one-shot hash (UTF-8 for a string): every request hashes its key, and it takes a third of
  // the time of a Hash object here (about 0.4 against 1.1 µs).
  return hash('sha256', key, 'hex');
}

/** Creates a key and answers it in clear text: the only time it exists outside the caller's hands. */
export async function createApiKey(
  store: ConfigStore,
  orgId: string,
  role: Role,
): Promise<{ record: ApiKeyRecord; key: string }> {
  const key = randomUUID();
  const record = await store.createApiKey({
    id: `key_${randomBytes(6).toString('hex')}`,
    orgId,
    role,
    keyHash: hashApiKey(key),
  });
  return { record, key };
}

/** The actor of a request's x-api-key value; null when absent, unknown or revoked. */
export async function authenticate(
  store: ConfigStore,
  key: string | null | undefined,
): Promise<Actor | null> {
  if (!key) return null;
  const keyHash = hashApiKey(key.trim());
  const record = await store.findApiKeyByHash(keyHash);
  return record ? actorOfKey(record, keyHash) : null;
}

export function actorOfKey(record: ApiKeyRecord, keyHash: string): Actor {
  return { kind: 'apiKey', keyId: record.id, keyHash, orgId: record.orgId, role: record.role };
}
