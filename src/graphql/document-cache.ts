// yoga's memory of parsed documents (and of texts that failed to parse), bounded in bytes rather
// than yoga's default of 1,024 entries of any size: one entry of the largest document the limits
// let through (2,000 tokens, and comments besides, in 16 KiB) holds far more than a widget's query,
// and its compiled form (graphql-jit, kept for the document object) more still.
import type { DocumentNode } from 'graphql';
import type { Plugin, YogaServerOptions } from 'graphql-yoga';
import { compiledBytes, documentBytes } from './retained-size.ts';

/** The least-recently used entries forgotten first once their sizes add up to more than `maxBytes`. */
export class BytesBoundedCache<T> {
  private readonly entries = new Map<string, { value: T; bytes: number }>();
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (key: string, value: T) => number,
  ) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Most recently used last.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: T): void {
    this.delete(key);
    const bytes = this.sizeOf(key, value);
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    this.shrink();
  }

  /** Counts more bytes for an entry (what was made from it since); nothing if it is gone. */
  grow(key: string, bytes: number): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.bytes += bytes;
    this.total += bytes;
    this.shrink();
  }

  /** The bytes counted for the entries held. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.bytes;
  }

  private shrink(): void {
    for (const [key, oldest] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(key);
      this.total -= oldest.bytes;
    }
  }
}

/**
 * What a failed parse retains: its error, whose source holds the text, and its stack. Reading the
 * stack makes V8 write it out as a string: until then it keeps each frame's receiver, the parser
 * and every token it had read (360 KiB for a text of 4,000 comments).
 */
const errorBytes = (text: string, error: unknown) => {
  const stack = error instanceof Error ? error.stack : undefined;
  return 16_384 + text.length * 2 + (stack?.length ?? 0) * 2;
};
/** What each error of a document's validation retains (yoga keeps the result for the document object). */
const bytesPerValidationError = 2_048;

/**
 * yoga's caches of parsed documents and of parse errors, by text, each bounded in bytes; the cache
 * to hand @envelop/graphql-jit, which tells the document cache what each compiled form weighs (the
 * plugin keeps it for the document object, as long as the cache holds the document); and a plugin
 * that counts each document's validation errors on it likewise.
 */
export function boundedDocumentCaches(options: { documentBytes?: number; errorBytes?: number } = {}) {
  /** The text each document was parsed from, to count what is made from it later. */
  const texts = new WeakMap<DocumentNode, string>();
  const documents = new BytesBoundedCache<DocumentNode>(
    options.documentBytes ?? 32 * 2 ** 20,
    (text, document) => {
      texts.set(document, text);
      return documentBytes(text, document);
    },
  );
  /** Documents whose validation is counted (yoga validates a cached document again only when its result was let go of). */
  const validated = new WeakSet<DocumentNode>();
  const errors = new BytesBoundedCache<unknown>(options.errorBytes ?? 4 * 2 ** 20, errorBytes);
  const parserAndValidationCache = {
    documentCache: documents,
    errorCache: errors,
  } satisfies YogaServerOptions<object, object>['parserAndValidationCache'];
  /**
   * Never answers: the plugin finds a compiled form by its document object first, and one found by
   * text would be kept for another document object, outside the count. Each compiled form it
   * reports is counted on the document of its text.
   */
  const jitCache = {
    get: () => undefined,
    set: (text: string) => {
      const document = documents.get(text);
      if (document) documents.grow(text, compiledBytes(document));
    },
  };
  /** Counts each document's validation errors, which yoga keeps with it, on the document. */
  const plugin: Plugin = {
    onValidate({ params: { documentAST } }) {
      if (validated.has(documentAST)) return;
      return ({ result }) => {
        validated.add(documentAST);
        const text = texts.get(documentAST);
        if (result.length > 0 && text !== undefined)
          documents.grow(text, result.length * bytesPerValidationError);
      };
    },
  };
  return { documents, errors, parserAndValidationCache, jitCache, plugin };
}
