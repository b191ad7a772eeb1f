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
  answer?: { readonly slot: Readonly<ConfigSlot>; readonly config: OrgConfig; readonly role: Role; readonly payload: Buffer };
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
   * A widget's key sends the same body at every load, and the bodies of all organisations differ
   * only near their end (the organisation's id): in the map above, every other body sharing the
   * hash bucket is compared nearly in full, and over many organisations each of those is a cache
   * miss. Weak: it goes with the record, once the key cache lets it go.
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
    return read?.body === body ? read : undefined;
  }

  /** Remembers the read as the key's last (the caller has checked that the key may make it). */
  keepLast(key: ApiKeyRecord, read: KnownRead): void {
    this.lastOfKey.set(key, read);
  }

  /**
   * Keeps an answer for the read. A read the map has let go of may still be a key's last: its
   * answer is then outside the bound in bytes (one per cached key at most).
   */
  keepAnswer(read: KnownRead, answer: NonNullable<KnownRead['answer']>): void {
    const before = read.answer?.payload.byteLength ?? 0;
    read.answer = answer;
    const entry = this.reads.get(read.body);
    if (entry?.read === read) this.grow(entry, answer.payload.byteLength - before);
  }

  private grow(entry: { bytes: number }, bytes: number): void {
    entry.bytes += bytes;
    this.bytes += bytes;
    for (const [body, oldest] of this.reads) {
      if (this.bytes <= this.maxBytes) break;
      this.reads.delete(body);
      this.bytes -= oldest.bytes;
    }
  }
}
