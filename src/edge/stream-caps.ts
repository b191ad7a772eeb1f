// Caps on the streams (subscriptions) one client address, and one secret API key, may hold at once,
// over SSE and WebSocket alike. One counter, the edge's step 11 (Edge.admitStream), taken around
// every subscription the GraphQL pipeline starts, whichever door it came through.
import type { IncomingMessage } from 'node:http';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type Actor, isPublishable } from '../auth/actor.ts';

export interface StreamLimits {
  /** Streams one client address may hold at once (a browser tab holds one). */
  readonly perAddress: number;
  /** Streams one secret API key may hold at once, from all addresses together. */
  readonly perKey: number;
}

export const defaultStreamLimits: StreamLimits = { perAddress: 500, perKey: 2_000 };

/** Why a stream was refused: the limit reached, for the message. */
export type StreamRefusal = 'address' | 'key';

/**
 * Counts the streams held per address and per key. An entry exists only while its count is above
 * zero, so the memory is a few dozen bytes per stream held (and streams are capped).
 */
export class StreamCaps {
  private readonly byAddress = new Map<string, number>();
  private readonly byKey = new Map<string, number>();

  constructor(readonly limits: StreamLimits = defaultStreamLimits) {}

  /**
   * Takes a stream for the address (and the key, for a secret key; null for a key shared by a
   * site's visitors, which is bounded by address alone). A release function (call it once the
   * stream ends; calling it again does nothing), or why it is refused.
   */
  acquire(address: string, keyId: string | null): (() => void) | StreamRefusal {
    const fromAddress = this.byAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.perAddress) return 'address';
    const withKey = keyId === null ? 0 : (this.byKey.get(keyId) ?? 0);
    if (keyId !== null && withKey >= this.limits.perKey) return 'key';
    this.byAddress.set(address, fromAddress + 1);
    if (keyId !== null) this.byKey.set(keyId, withKey + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      decrement(this.byAddress, address);
      if (keyId !== null) decrement(this.byKey, keyId);
    };
  }

  /** Streams held now, by address and by key (for tests and metrics). */
  held(): { addresses: number; keys: number; streams: number } {
    let streams = 0;
    for (const count of this.byAddress.values()) streams += count;
    return { addresses: this.byAddress.size, keys: this.byKey.size, streams };
  }
}

function decrement(counts: Map<string, number>, name: string): void {
  const count = (counts.get(name) ?? 1) - 1;
  if (count <= 0) counts.delete(name);
  else counts.set(name, count);
}

/**
 * The key a stream counts against: a secret key's id. A publishable (pk_) key is shared by every
 * visitor of a site, so its streams count against their addresses only.
 */
export function streamKeyOf(actor: Actor | null | undefined): string | null {
  return actor?.kind === 'apiKey' && !isPublishable(actor) ? actor.keyId : null;
}

/** The refusal of a stream over the cap, as GraphQL errors (HTTP 429 over SSE). */
export function tooManyStreams(refusal: StreamRefusal, limits: StreamLimits): ExecutionResult {
  const message =
    refusal === 'address'
      ? `too many streams from this address (at most ${limits.perAddress} at once); close one first`
      : `too many streams with this API key (at most ${limits.perKey} at once); close one first`;
  return {
    errors: [new GraphQLError(message, { extensions: { code: 'TOO_MANY_STREAMS', http: { status: 429 } } })],
  };
}

/**
 * The iterable's iterator, releasing once it ends, fails or is closed by its consumer; ended from
 * outside (its key stopped) by `end`, which closes it: its source ends, and its consumer sees it complete.
 */
function releasing<T>(
  iterable: AsyncIterable<T>,
  release: () => void,
): AsyncIterableIterator<T> & { end(): void } {
  const iterator = iterable[Symbol.asyncIterator]();
  return {
    async next() {
      try {
        const step = await iterator.next();
        if (step.done) release();
        return step;
      } catch (error) {
        release();
        throw error;
      }
    },
    async return(value?: unknown) {
      release();
      return iterator.return ? iterator.return(value) : { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      release();
      if (iterator.throw) return iterator.throw(error);
      throw error;
    },
    end() {
      release();
      void iterator.return?.();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Takes a stream for a subscription's request and actor: its release, or the refusal to answer.
 * `end` ends the stream from outside, once its key stops (the edge's step 12).
 */
export type AdmitStream = (
  req: IncomingMessage | undefined,
  actor: Actor | null,
  end: () => void,
) => (() => void) | ExecutionResult;

/**
 * Hands every subscription the pipeline starts (SSE through yoga, WebSocket through getEnveloped)
 * to the edge's stream steps, which refuse one over a cap with TOO_MANY_STREAMS and end one whose
 * key stops. Placed before the plugins that wrap subscriptions (shared events), so their streams
 * are counted, and ending this one ends its source, which ends theirs.
 */
export function useStreamCaps(admit: AdmitStream): Plugin {
  return {
    onSubscribe: ({ subscribeFn, setSubscribeFn }) => {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const context = args.contextValue as { actor?: Actor | null; req?: IncomingMessage };
        let stream: ReturnType<typeof releasing<ExecutionResult>> | undefined;
        let endedEarly = false;
        const release = admit(context.req, context.actor ?? null, () => {
          if (stream) stream.end();
          else endedEarly = true;
        });
        if (typeof release !== 'function') return release;
        let results: Awaited<ReturnType<typeof subscribeFn>>;
        try {
          results = await subscribeFn(args);
        } catch (error) {
          release();
          throw error;
        }
        if (!(Symbol.asyncIterator in Object(results))) {
          release();
          return results;
        }
        stream = releasing(results as AsyncIterable<ExecutionResult>, release);
        if (endedEarly) stream.end();
        return stream;
      });
    },
  };
}
