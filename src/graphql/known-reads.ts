// The GraphQL read fast path's memory of request bodies: what each means (its parameters, read plan
// and organisation), and the last answer made for it with the configuration it was made from.
import type { OrgConfig } from '../config/model.ts';
import type { ReadPlan } from '../graphql/read-plans.ts';
import type { ConfigSlot } from '../store/cached-store.ts';
import type { ApiKeyRecord, Role } from '../store/config-store.ts';

export interface KnownRead {
  /** The request body it was read from. */
  readonly body: string;
  readonly variables: Record<string, unknown>;
  readonly plan: ReadPlan;
  /** The one organisation the operation reads (every orgConfig field of it names the same one). */
  readonly orgId: string;
  /**
   * The last answer's bytes. Valid while the cache's slot of the organisation holds the same
   * configuration object (a new version is a new object) and for a key of the same role.
   */
  answer?: {
    readonly slot: Readonly<ConfigSlot>;
    readonly config: OrgConfig;
    readonly role: Role;
    readonly payload: Buffer;
    /** For a read of fields that change with time (openNow, workingHours): the times it holds for, ms. */
    readonly window?: { readonly fromMs: number; readonly untilMs: number };
  };
  /**
   * Set once the memory below has let it go: it is then no key's last read, and keeps no answer.
   * Its text stays reachable from a key's record until that key's next read replaces it, or the
   * key cache drops the record: at most one body per key the cache holds.
   */
  forgotten?: true;
}

/**
 * Bodies by their text, oldest forgotten first once their texts and answers hold more than
 * `maxBytes`: a client could send endless variants (other variables), so the bound is in bytes.
 */
export class KnownReads {
  private readonly reads = new Map<string, { read: KnownRead; bytes: number }>();
  private bytes = 0;
  /**
   * The read each key sent last, found from the key's cached record, which a read looks up anyway.
   * A widget's key sends the same body at every load. Found this way, the body's text is compared
   * once with the one kept, instead of being hashed (a few hundred characters, every request) and
   * compared with the bodies sharing its bucket in the map below, which over many organisations
   * differ only near their end (the organisation's id). Weak: it goes with the record, once the key
   * cache lets it go.
   */
  private readonly lastOfKey = new WeakMap<ApiKeyRecord, KnownRead>();

  constructor(private readonly maxBytes = 32 * 2 ** 20) {}

  get(body: string): KnownRead | undefined {
    return this.reads.get(body)?.read;
  }

  remember(read: KnownRead): KnownRead {
    const entry = { read, bytes: 0 };
    this.reads.set(read.body, entry);
    this.grow(entry, read.body.length * 2); // UTF-16 in memory
    return read;
  }

  /** The key's last read, if it was of this body. */
  lastOf(key: ApiKeyRecord, body: string): KnownRead | undefined {
    const read = this.lastOfKey.get(key);
    return read?.body === body && !read.forgotten ? read : undefined;
  }

  /** Remembers the read as the key's last (the caller has checked that the key may make it). */
  keepLast(key: ApiKeyRecord, read: KnownRead): void {
    this.lastOfKey.set(key, read);
  }

  /** Keeps an answer for the read, unless the memory has let it go meanwhile. */
  keepAnswer(read: KnownRead, answer: NonNullable<KnownRead['answer']>): void {
    // A read let go of is never held again: a body remembered anew is another read.
    const entry = this.reads.get(read.body);
    if (entry?.read !== read) return;
    const before = read.answer?.payload.byteLength ?? 0;
    read.answer = answer;
    this.grow(entry, answer.payload.byteLength - before);
  }

  private grow(entry: { bytes: number }, bytes: number): void {
    entry.bytes += bytes;
    this.bytes += bytes;
    for (const [body, oldest] of this.reads) {
      if (this.bytes <= this.maxBytes) break;
      this.reads.delete(body);
      this.bytes -= oldest.bytes;
      // A key may still hold it as its last read: it must not keep an answer outside the bound.
      oldest.read.forgotten = true;
      oldest.read.answer = undefined;
    }
  }
}
