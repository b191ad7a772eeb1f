// Step 2 of the edge: a request's whole body, read under the limit. Every POST reads its body here,
// so its listeners are shared functions holding their state on the request (a symbol), rather
// than closures and once-wrappers made anew for each request.
import type { IncomingMessage } from 'node:http';

/** The body; 'too-large' once over the limit, 'declared-too-large' when Content-Length says so; null when the client went away. */
export type BodyRead = Buffer | 'too-large' | 'declared-too-large' | null;

interface Reading {
  readonly limitBytes: number;
  readonly chunks: Buffer[];
  size: number;
  resolve: ((read: BodyRead) => void) | undefined;
}

const reading = Symbol('body being read');
type ReadRequest = IncomingMessage & { [reading]: Reading };

function settle(req: ReadRequest, read: BodyRead): void {
  const state = req[reading];
  const resolve = state.resolve;
  if (!resolve) return;
  state.resolve = undefined;
  resolve(read);
}

function onData(this: ReadRequest, chunk: Buffer): void {
  const state = this[reading];
  if (!state.resolve) return;
  state.size += chunk.byteLength;
  if (state.size > state.limitBytes) {
    // Stop reading: the answer closes the connection, which drops the rest of the body.
    this.off('data', onData);
    this.pause();
    settle(this, 'too-large');
    return;
  }
  state.chunks.push(chunk);
}

function onEnd(this: ReadRequest): void {
  const { chunks, resolve } = this[reading];
  // Settled already (over the limit): nothing to join.
  if (resolve) settle(this, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
}

function onGone(this: ReadRequest): void {
  settle(this, null);
}

/** The whole body under the limit. */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<BodyRead> {
  const declared = Number(req.headers['content-length']);
  if (declared > limitBytes) return Promise.resolve('declared-too-large');
  // A request pipelined behind another waits for it before its body is read: the client may have
  // gone in between, and a destroyed request emits none of the events below any more.
  if (req.destroyed) return Promise.resolve(null);
  return new Promise((resolve) => {
    (req as ReadRequest)[reading] = { limitBytes, chunks: [], size: 0, resolve };
    req.on('data', onData);
    req.on('end', onEnd);
    // After 'end' (settled already), or when the client went away before it: a request destroyed
    // for any reason (aborted, a socket error) emits 'close', and emits 'error' only to listeners.
    req.on('close', onGone);
  });
}
