// Origin headers as browsers serialise origins, remembered: a page's browser sends the same Origin
// with every request, and parsing it (the URL parser) cost more than the rest of the CORS decision.
// Bounded, since the Origin is the client's to choose: at most `capacity` origins of at most
// `longestKept` characters are held (about 600 KB at the defaults), and the memory is emptied once
// full, so a client sending endless variants only costs itself the parsing.

/** An origin as browsers serialise it (lowercase scheme and host, no default port, no path); null if it is none. */
export function serialisedOrigin(origin: string): string | null {
  if (!/^https?:\/\/[^/?#\s,]+$/i.test(origin)) return null;
  try {
    return new URL(origin).origin;
  } catch {
    return null;
  }
}

export class SerialisedOrigins {
  private readonly held = new Map<string, string | null>();

  constructor(
    readonly capacity = 1024,
    readonly longestKept = 255,
  ) {}

  /** The origin's serialisation (serialisedOrigin), parsed once while it is held. */
  of(origin: string): string | null {
    const held = this.held.get(origin);
    if (held !== undefined) return held;
    const made = serialisedOrigin(origin);
    if (origin.length <= this.longestKept) {
      if (this.held.size >= this.capacity) this.held.clear();
      this.held.set(origin, made);
    }
    return made;
  }

  /** Origins held now. */
  get size(): number {
    return this.held.size;
  }
}
