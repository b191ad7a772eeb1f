// Open/closed moments of the organisations someone follows: one min-heap of next changes and one timer for all of them.
import { Repeater } from 'graphql-yoga';
import type { OrgConfig } from '../config/model.ts';
import { type OpeningHours, openState } from '../config/opening-hours.ts';
import type { ChangeEvents } from './change-feed.ts';

export interface OpenStateEvent {
  readonly orgId: string;
  readonly openNow: boolean;
  /** When the state was found (the moment it flipped, give or take the timer's lateness), ms. */
  readonly at: number;
  /** The next flip, ms; null when none within about two years. */
  readonly nextChangeAt: number | null;
}

type Listener = (event: OpenStateEvent) => void;

interface Watched {
  readonly orgId: string;
  version: number;
  hours: OpeningHours;
  openNow: boolean;
  /** Infinity when there is no next change. */
  next: number;
  /** Its place in the heap. */
  index: number;
  readonly listeners: Set<Listener>;
}

export interface TimerApi {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: TimerApi = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** setTimeout takes at most 2^31-1 ms; a later change is reached by waking once in between. */
const maxDelayMs = 2 ** 31 - 1;
/** Events a follower may leave unread before its stream ends (it resubscribes and gets the state). */
const maxUnread = 16;

/**
 * Tells followers when an organisation opens or closes. Organisations with at least one follower
 * sit in a min-heap by their next change; one timer waits for the earliest. Every committed
 * revision reaches it through the change feed (from this process or any other), so a new schedule
 * replaces the entry's next change at once; each replica computes its own, as it only tells its own
 * followers. Memory: one entry per followed organisation, dropped with its last follower.
 */
export class OpenStateTimer {
  private readonly watched = new Map<string, Watched>();
  private readonly heap: Watched[] = [];
  private timer: unknown = null;
  private timerAt = Infinity;
  private readonly unwatchFeed: () => void;

  constructor(
    events: ChangeEvents,
    private readonly clock: () => number = Date.now,
    private readonly timers: TimerApi = realTimers,
  ) {
    this.unwatchFeed = events.watchAll((revision) => {
      const entry = this.watched.get(revision.orgId);
      if (entry) this.reschedule(entry, revision.version, revision.settings.openingHours);
    });
  }

  /** Organisations followed now (for tests and metrics). */
  get size(): number {
    return this.watched.size;
  }

  /** The number of timers pending: one, or none when nothing is followed. */
  get pendingTimers(): number {
    return this.timer === null ? 0 : 1;
  }

  /**
   * Follows the organisation of `config` (read by the caller, who checked the access): calls
   * `listener` with its state now, then at each flip. Returns the unfollow.
   */
  watch(config: OrgConfig, listener: Listener): () => void {
    let entry = this.watched.get(config.orgId);
    if (!entry) {
      const state = openState(config.settings.openingHours, this.clock());
      entry = {
        orgId: config.orgId,
        version: config.version,
        hours: config.settings.openingHours,
        openNow: state.openNow,
        next: state.nextChangeAt ?? Infinity,
        index: this.heap.length,
        listeners: new Set(),
      };
      this.watched.set(config.orgId, entry);
      this.heap.push(entry);
      this.up(entry.index);
      this.arm();
    } else if (config.version > entry.version) {
      this.reschedule(entry, config.version, config.settings.openingHours);
    }
    entry.listeners.add(listener);
    const followed = entry;
    listener(this.eventOf(followed, this.clock()));
    return () => {
      followed.listeners.delete(listener);
      if (followed.listeners.size > 0 || this.watched.get(followed.orgId) !== followed) return;
      this.watched.delete(followed.orgId);
      this.remove(followed.index);
      this.arm();
    };
  }

  /** The organisation's states as an async stream: now, then each flip. */
  stream(config: OrgConfig): AsyncIterable<OpenStateEvent> {
    return new Repeater<OpenStateEvent>(async (push, stop) => {
      let unread = 0;
      const unwatch = this.watch(config, (event) => {
        if (unread >= maxUnread) return void stop();
        unread += 1;
        void push(event).then(() => (unread -= 1));
      });
      await stop;
      unwatch();
    });
  }

  close(): void {
    this.unwatchFeed();
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private eventOf(entry: Watched, at: number): OpenStateEvent {
    return {
      orgId: entry.orgId,
      openNow: entry.openNow,
      at,
      nextChangeAt: entry.next === Infinity ? null : entry.next,
    };
  }

  /** A new schedule: the state now (told when it flipped) and the next change. */
  private reschedule(entry: Watched, version: number, hours: OpeningHours): void {
    if (version <= entry.version) return;
    entry.version = version;
    if (hours === entry.hours) return;
    entry.hours = hours;
    this.refresh(entry, this.clock());
    this.arm();
  }

  private refresh(entry: Watched, now: number): void {
    const state = openState(entry.hours, now);
    const flipped = state.openNow !== entry.openNow;
    entry.openNow = state.openNow;
    const next = state.nextChangeAt ?? Infinity;
    const earlier = next < entry.next;
    entry.next = next;
    if (earlier) this.up(entry.index);
    else this.down(entry.index);
    if (flipped) {
      const event = this.eventOf(entry, now);
      for (const listener of entry.listeners) listener(event);
    }
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.clock();
    // Each due entry moves to its next change, so this ends.
    for (let top = this.heap[0]; top && top.next <= now; top = this.heap[0]) this.refresh(top, now);
    this.arm();
  };

  /** One timer, set for the earliest next change. */
  private arm(): void {
    const earliest = this.heap[0]?.next ?? Infinity;
    if (earliest === this.timerAt && this.timer !== null) return;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = earliest;
    if (earliest === Infinity) return;
    const delay = Math.min(Math.max(earliest - this.clock(), 0), maxDelayMs);
    this.timer = this.timers.setTimeout(this.fire, delay);
  }

  // ---------------------------------------------------------------- the heap, by `next`

  private swap(a: number, b: number): void {
    const first = this.heap[a]!;
    const second = this.heap[b]!;
    this.heap[a] = second;
    this.heap[b] = first;
    second.index = a;
    first.index = b;
  }

  private up(index: number): void {
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.heap[parent]!.next <= this.heap[index]!.next) return;
      this.swap(index, parent);
      index = parent;
    }
  }

  private down(index: number): void {
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < this.heap.length && this.heap[left]!.next < this.heap[smallest]!.next) smallest = left;
      if (right < this.heap.length && this.heap[right]!.next < this.heap[smallest]!.next) smallest = right;
      if (smallest === index) return;
      this.swap(index, smallest);
      index = smallest;
    }
  }

  private remove(index: number): void {
    const last = this.heap.length - 1;
    if (index !== last) this.swap(index, last);
    this.heap.pop();
    if (index < this.heap.length) {
      this.up(index);
      this.down(index);
    }
  }
}
