// Reads from memory: configurations and API keys cached per process, kept current by the change feed.
import type { OrgConfig, OrgConfigSettings } from '../config/model.ts';
import { configAt, type Revision, type RevisionMeta } from '../config/revision.ts';
import { monotonicMs } from '../monotonic-clock.ts';
import type {
  ApiKeyRecord,
  ConfigStore,
  NewApiKey,
  OrgSummary,
  StoredApiKey,
  StreamTicketRecord,
  UpdateDecision,
} from './config-store.ts';

/** A key found by its hash, remembered this long (and forgotten at once when any other process commits). */
const keyTtlMs = 30_000;

/** An organisation's place in the cache. */
export interface ConfigSlot {
  current: OrgConfig;
}

/**
 * A ConfigStore that answers getConfig and findApiKeyByHash from memory. Its own writes update it
 * at once; commits of other processes reach it through the change feed (applyRevision for configs,
 * forgetKeys when anything foreign was committed). Writes always go to the database, whose
 * transaction checks the version, so a stale cache can never cause a lost update.
 */
export class CachedConfigStore implements ConfigStore {
  /** One slot per organisation, kept for the life of the process: a new version replaces what it holds. */
  private readonly configs = new Map<string, ConfigSlot>();
  /** `until` on the monotonic clock (monotonic-clock.ts): read at every request. */
  private readonly keys = new Map<string, { record: ApiKeyRecord; until: number }>();

  /** Lookups answered from memory (hits) and from the database (misses), for the metrics. */
  readonly counts = { configHits: 0, configMisses: 0, keyHits: 0, keyMisses: 0 };

  constructor(private readonly inner: ConfigStore) {}

  /** A committed revision: the config as of that version, unless a newer one is already here. */
  applyRevision(revision: Revision): void {
    const slot = this.configs.get(revision.orgId);
    if (!slot) this.configs.set(revision.orgId, { current: configAt(revision) });
    else if (slot.current.version < revision.version) slot.current = configAt(revision);
  }

  forgetKeys(): void {
    this.keys.clear();
  }

  /** The cached configuration, without going to the database on a miss (for the REST fast path). */
  peekConfig(orgId: string): OrgConfig | undefined {
    const config = this.configs.get(orgId)?.current;
    if (config) this.counts.configHits += 1;
    return config;
  }

  /**
   * The slot holding the cached configuration: what was made from `slot.current` is current while
   * it still holds the same object, which a caller can check without looking the organisation up.
   */
  peekConfigSlot(orgId: string): Readonly<ConfigSlot> | undefined {
    return this.configs.get(orgId);
  }

  /**
   * The cached live key of this hash, without going to the database on a miss (for the edge's key
   * step); never an expired one (checked now, against the stored expiry): the edge then looks it up
   * and refuses it (KEY_EXPIRED).
   */
  peekApiKey(keyHash: string): ApiKeyRecord | undefined {
    const cached = this.keys.get(keyHash);
    if (!cached || cached.until <= monotonicMs()) return undefined;
    this.counts.keyHits += 1;
    const { expiresAt } = cached.record;
    return expiresAt === null || expiresAt.getTime() > Date.now() ? cached.record : undefined;
  }

  async getConfig(orgId: string): Promise<OrgConfig | undefined> {
    const cached = this.configs.get(orgId)?.current;
    if (cached) {
      this.counts.configHits += 1;
      return cached;
    }
    this.counts.configMisses += 1;
    const config = await this.inner.getConfig(orgId);
    if (config) this.remember(config);
    return config;
  }

  async updateConfig(
    orgId: string,
    decide: UpdateDecision,
    meta: RevisionMeta,
  ): Promise<OrgConfig | undefined> {
    const config = await this.inner.updateConfig(orgId, decide, meta);
    if (config) this.remember(config);
    return config;
  }

  async createOrg(orgId: string, settings: OrgConfigSettings, meta: RevisionMeta): Promise<OrgConfig> {
    const config = await this.inner.createOrg(orgId, settings, meta);
    this.remember(config);
    return config;
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const cached = this.keys.get(keyHash);
    if (cached && cached.until > monotonicMs()) {
      this.counts.keyHits += 1;
      return cached.record;
    }
    this.counts.keyMisses += 1;
    const found = await this.inner.findApiKeyByHash(keyHash);
    if (!found) {
      this.keys.delete(keyHash);
      return undefined;
    }
    // A key read again once its time is up is nearly always unchanged: the record already held stays,
    // strings included, so the limit's window is found by the same id string (its hash already
    // computed, no second copy compared), and each of many keys does not leave a new record to the
    // garbage collector twice a minute.
    const record = cached && sameKey(cached.record, found) ? cached.record : found;
    this.keys.set(keyHash, { record, until: monotonicMs() + keyTtlMs });
    return record;
  }

  async revokeApiKey(id: string): Promise<boolean> {
    const revoked = await this.inner.revokeApiKey(id);
    this.forgetKey(id);
    return revoked;
  }

  async expireApiKey(id: string, expiresAt: Date): Promise<boolean> {
    const changed = await this.inner.expireApiKey(id, expiresAt);
    this.forgetKey(id);
    return changed;
  }

  private forgetKey(id: string): void {
    for (const [hash, { record }] of this.keys) if (record.id === id) this.keys.delete(hash);
  }

  /** Keeps the newer of what is cached and what was read (a read may race a newer commit). */
  private remember(config: OrgConfig): void {
    const slot = this.configs.get(config.orgId);
    if (!slot) this.configs.set(config.orgId, { current: config });
    else if (slot.current.version <= config.version) slot.current = config;
  }

  listOrgs(): Promise<OrgSummary[]> {
    return this.inner.listOrgs();
  }
  createApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
    return this.inner.createApiKey(key);
  }
  findApiKeyById(id: string): Promise<StoredApiKey | undefined> {
    return this.inner.findApiKeyById(id);
  }
  recordKeyUse(uses: ReadonlyMap<string, Date>): Promise<void> {
    return this.inner.recordKeyUse(uses);
  }
  createStreamTicket(ticket: Omit<StreamTicketRecord, 'usedAt'>): Promise<void> {
    return this.inner.createStreamTicket(ticket);
  }
  useStreamTicket(ticketHash: string, at: Date): Promise<StreamTicketRecord | undefined> {
    return this.inner.useStreamTicket(ticketHash, at);
  }
  listApiKeys(orgId: string): Promise<ApiKeyRecord[]> {
    return this.inner.listApiKeys(orgId);
  }
  listRevisions(
    orgId: string,
    options: { beforeVersion?: number | null; limit: number },
  ): Promise<Revision[]> {
    return this.inner.listRevisions(orgId, options);
  }
  revisionSizes(
    orgId: string,
    options: { beforeVersion?: number | null; limit: number; untilBytes?: number },
  ): Promise<{ version: number; bytes: number }[]> {
    return this.inner.revisionSizes(orgId, options);
  }
  getRevision(orgId: string, version: number): Promise<Revision | undefined> {
    return this.inner.getRevision(orgId, version);
  }
  revisionsSince(orgId: string, version: number, limit: number): Promise<Revision[]> {
    return this.inner.revisionsSince(orgId, version, limit);
  }
  revisionsAfter(seq: number, limit: number): Promise<Revision[]> {
    return this.inner.revisionsAfter(seq, limit);
  }
  latestRevisionSeq(): Promise<number> {
    return this.inner.latestRevisionSeq();
  }
  isReady(): Promise<boolean> {
    return this.inner.isReady();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Every field of a key's record, so that one added to ApiKeyRecord cannot be left out of sameKey (the
 * compiler says so); false for the one that is only a hint (last use), which grants nothing.
 */
const keyFields = {
  id: true,
  orgId: true,
  role: true,
  groups: true,
  expiresAt: true,
  createdAt: true,
  revokedAt: true,
  lastUsedAt: false,
} as const satisfies Record<keyof ApiKeyRecord, boolean>;

const comparedKeyFields = (Object.keys(keyFields) as (keyof ApiKeyRecord)[]).filter(
  (field) => keyFields[field],
);

/** The same live key, as read at two times (its dates compared by time, its groups by value). */
function sameKey(a: ApiKeyRecord, b: ApiKeyRecord): boolean {
  return comparedKeyFields.every((field) => {
    const [x, y] = [a[field], b[field]];
    if (x instanceof Date && y instanceof Date) return x.getTime() === y.getTime();
    if (Array.isArray(x) && Array.isArray(y)) return x.join(',') === y.join(',');
    return x === y;
  });
}
