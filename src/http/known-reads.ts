// The GraphQL read fast path's memory of request bodies: what each means (its parameters, read plan
// and organisation), and the last answer made for it with the configuration it was made from.
import type { OrgConfig } from '../config/model.ts';
import type { ReadPlan } from '../graphql/read-plans.ts';
import type { ConfigSlot } from '../store/cached-store.ts';
import type { Role } from '../store/config-store.ts';

export interface KnownRead {
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

  constructor(private readonly maxBytes = 32 * 2 ** 20) {}

  get(body: string): KnownRead | undefined {
    return this.reads.get(body)?.read;
  }

  remember(body: string, read: KnownRead): KnownRead {
    const entry = { read, bytes: 0 };
    this.reads.set(body, entry);
    this.grow(entry, body.length * 2); // UTF-16 in memory
    return read;
  }

  /** Keeps an answer for the body, if the body is still known. */
  keepAnswer(body: string, answer: NonNullable<KnownRead['answer']>): void {
    const entry = this.reads.get(body);
    if (!entry) return;
    const before = entry.read.answer?.payload.byteLength ?? 0;
    entry.read.answer = answer;
    this.grow(entry, answer.payload.byteLength - before);
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
