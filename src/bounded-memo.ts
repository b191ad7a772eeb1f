// A function's results remembered per argument, within a bound: for hot-path work a client repeats
// with every request (parsing its Origin, hashing its publishable key) while the argument is the
// client's to choose. At most `capacity` results of arguments of at most `longestKept` characters
// are held, and the memory is emptied once full: a client sending endless variants only costs
// itself the work, never the gateway memory.

export class BoundedMemo<T> {
  private readonly held = new Map<string, T>();

  constructor(
    private readonly compute: (argument: string) => T,
    readonly capacity: number,
    readonly longestKept: number,
  ) {}

  /** compute(argument), computed once while held. */
  of(argument: string): T {
    const held = this.held.get(argument);
    if (held !== undefined) return held;
    const made = this.compute(argument);
    if (argument.length <= this.longestKept) {
      if (this.held.size >= this.capacity) this.held.clear();
      this.held.set(argument, made);
    }
    return made;
  }

  /** Results held now. */
  get size(): number {
    return this.held.size;
  }
}
