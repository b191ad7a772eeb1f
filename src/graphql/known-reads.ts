// The GraphQL read fast path's memory of request texts (POSTed bodies and GET URLs): what each means
// (its parameters, read plan and organisation), and the last answer made for it with the
// configuration it was made from.
import type { ReadPlan } from '../graphql/read-plans.ts';
import type { ConfigSlot } from '../store/cached-store.ts';
import type { ApiKeyRecord, Role } from '../store/config-store.ts';

export interface KnownRead {
  /** The text it was read from: the request's body, or for a GET its URL. */
  readonly text: string;
  /** Read from a GET's URL: a POSTed body of the same text (not JSON) is another request. */
  readonly inUrl: boolean;
  readonly variables: Record<string, unknown>;
  readonly plan: ReadPlan;
  /** The one organisation the operation reads (every orgConfig field of it names the same one). */
  readonly orgId: string;
  /**
   * The last answer's bytes. Valid while the cache's slot of the organisation holds the same
   * version (a version's configuration never changes) and for a key of the same role.
   */
  answer?: {
    readonly slot: Readonly<ConfigSlot>;
    /** The version it was made from: not the configuration itself, which a newer one replaces. */
    readonly version: number;
    readonly role: Role;
    /** In memory of its own: a small buffer from node's shared pool would keep its 8 KiB slab alive. */
    readonly payload: Buffer;
    /** For a read of fields that change with time (openNow, workingHours): the times it holds for, ms. */
    readonly window?: { readonly fromMs: number; readonly untilMs: number };
  };
  /**
   * Set once the memory below has let it go: it is then no key's last read, and keeps no answer.
   * Its text stays reachable from a key's record until that key's next read replaces it, or the
   * key cache drops the record: at most one text per key the cache holds.
   */
  forgotten?: true;
}

/**
 * Reads by their text (body or URL), oldest forgotten first once what they hold (texts, variables, answers)
 * passes `maxBytes`: a client could send endless variants (other variables), so the bound is in
 * bytes, counted on what each read retains (retainedBytes, and its answer's bytes).
 */
export class KnownReads {
  private readonly reads = new Map<string, { read: KnownRead; bytes: number }>();
  private bytes = 0;
  /**
   * The read each key sent last, found from the key's cached record, which a read looks up anyway.
   * A widget's key sends the same text at every load. Found this way, the text is compared once
   * with the one kept, instead of being hashed (a few hundred characters, every request) and
   * compared with the texts sharing its bucket in the map below, which over many organisations
   * differ only near their end (the organisation's id). Weak: it goes with the record, once the key
   * cache lets it go.
   */
  private readonly lastOfKey = new WeakMap<ApiKeyRecord, KnownRead>();

  constructor(private readonly maxBytes = 32 * 2 ** 20) {}

  get(text: string): KnownRead | undefined {
    return this.reads.get(text)?.read;
  }

  remember(read: KnownRead): KnownRead {
    // A text remembered anew (its plan let go of meanwhile) replaces the read kept for it.
    const earlier = this.reads.get(read.text);
    if (earlier) this.forget(read.text, earlier);
    const entry = { read, bytes: 0 };
    this.reads.set(read.text, entry);
    this.grow(entry, retainedBytes(read));
    return read;
  }

  /** The key's last read, if it was of this text. */
  lastOf(key: ApiKeyRecord, text: string): KnownRead | undefined {
    const read = this.lastOfKey.get(key);
    return read?.text === text && !read.forgotten && read.plan.compiled ? read : undefined;
  }

  /** Remembers the read as the key's last (the caller has checked that the key may make it). */
  keepLast(key: ApiKeyRecord, read: KnownRead): void {
    this.lastOfKey.set(key, read);
  }

  /** Keeps an answer for the read, unless the memory has let it go meanwhile. */
  keepAnswer(read: KnownRead, answer: NonNullable<KnownRead['answer']>): void {
    // A read let go of is never held again: a text remembered anew is another read.
    const entry = this.reads.get(read.text);
    if (entry?.read !== read) return;
    const before = read.answer ? answerBytes(read.answer) : 0;
    read.answer = answer;
    this.grow(entry, answerBytes(answer) - before);
  }

  private grow(entry: { bytes: number }, bytes: number): void {
    entry.bytes += bytes;
    this.bytes += bytes;
    for (const [text, oldest] of this.reads) {
      if (this.bytes <= this.maxBytes) break;
      this.forget(text, oldest);
    }
  }

  private forget(text: string, entry: { read: KnownRead; bytes: number }): void {
    this.reads.delete(text);
    this.bytes -= entry.bytes;
    // A key may still hold it as its last read: it must not keep an answer outside the bound.
    entry.read.forgotten = true;
    entry.read.answer = undefined;
  }
}

/** An answer's bytes and the objects that hold them (its record, the buffer, its memory of its own). */
const answerBytes = (answer: NonNullable<KnownRead['answer']>) => 256 + answer.payload.byteLength;

/**
 * What a read holds besides its answer, counted generously: its text (UTF-16 at most), its parsed
 * variables, and the objects that hold it (the map's entry, the read, its organisation's id). Its
 * plan is the plans' (read-plans.ts): counted in their bound, and let go of with them.
 */
export function retainedBytes(read: Pick<KnownRead, 'text' | 'variables' | 'orgId'>): number {
  return 256 + read.text.length * 2 + valueBytes(read.variables);
}

/**
 * The heap a parsed JSON value takes, at most: 64 bytes per object or array and 48 per property or
 * element beyond that (large objects are hash tables), strings at two bytes a character, numbers
 * boxed. Walked without recursion (a body may nest deeply). Checked against V8 by
 * test/known-reads.test.ts.
 */
function valueBytes(value: unknown): number {
  let bytes = 0;
  const values = [value];
  while (values.length > 0) {
    const next = values.pop();
    if (typeof next === 'string') bytes += 24 + next.length * 2;
    else if (typeof next !== 'object' || next === null) bytes += 16;
    else if (Array.isArray(next)) {
      bytes += 64 + next.length * 24;
      for (const item of next) values.push(item);
    } else {
      bytes += 64;
      for (const name in next) {
        bytes += 48 + name.length * 2;
        values.push((next as Record<string, unknown>)[name]);
      }
    }
  }
  return bytes;
}
