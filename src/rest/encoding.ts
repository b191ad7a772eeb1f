// JSON answers compressed as the client's Accept-Encoding allows (gzip preferred, then br, deflate).

import type { OutgoingHttpHeaders } from 'node:http';
import { promisify } from 'node:util';
import {
  brotliCompress,
  brotliCompressSync,
  constants,
  deflate,
  deflateSync,
  gzip,
  gzipSync,
} from 'node:zlib';
import Negotiator from 'negotiator';
import type { Answer } from '../edge/edge.ts';

const encoders: Record<string, (body: Buffer) => Buffer> = {
  gzip: (body) => gzipSync(body),
  // Brotli's default quality (11) costs milliseconds per answer; 5 keeps most of the gain.
  br: (body) => brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }),
  deflate: (body) => deflateSync(body),
};
const brotliOptions = { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } };
/** The same encoders on libuv's thread pool, for bodies made once per request. */
const laterEncoders: Record<string, (body: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gzip),
  br: (body) => promisify(brotliCompress)(body, brotliOptions),
  deflate: promisify(deflate),
};
/** Our preference among the encodings a client accepts equally: the fastest first. */
const preferred = ['gzip', 'br', 'deflate', 'identity'];
/** Below this, compressing costs more than it saves. */
export const minimumCompressedBytes = 256;

/** A body serialised once, with its compressed forms made on first demand and kept. */
export class Representation {
  private readonly encoded = new Map<string, Buffer>();

  constructor(readonly raw: Buffer) {}

  static of(text: string): Representation {
    return new Representation(Buffer.from(text, 'utf8'));
  }

  encodedAs(encoding: string): Buffer {
    let body = this.encoded.get(encoding);
    if (!body) {
      body = encoders[encoding]!(this.raw);
      this.encoded.set(encoding, body);
    }
    return body;
  }
}

/** Clients send few distinct Accept-Encoding values: each is negotiated once (up to this many kept). */
const negotiated = new Map<string, string | undefined>();
const maxNegotiated = 256;

/** The encoding to answer in for an Accept-Encoding header; undefined without one or when none fits. */
export function negotiateEncoding(accept: string | null | undefined): string | undefined {
  if (!accept) return undefined;
  if (negotiated.has(accept)) return negotiated.get(accept);
  const negotiator = new Negotiator({ headers: { 'accept-encoding': accept } });
  const encoding = (
    negotiator.encoding as (available: string[], options: { preferred: string[] }) => string | undefined
  )(preferred, { preferred });
  if (negotiated.size >= maxNegotiated) negotiated.clear();
  negotiated.set(accept, encoding);
  return encoding;
}

/** An answer with the body compressed as the client's Accept-Encoding allows (small bodies as they are); `headers` is its own, and gains Content-Encoding. */
export function encodedAnswer(
  acceptEncoding: string | undefined,
  status: number,
  body: string | Representation,
  headers: OutgoingHttpHeaders,
): Answer {
  const representation = typeof body === 'string' ? Representation.of(body) : body;
  let encoding = negotiateEncoding(acceptEncoding);
  if (encoding === 'identity' || representation.raw.byteLength < minimumCompressedBytes) encoding = undefined;
  if (encoding) headers['content-encoding'] = encoding;
  return { status, headers, body: encoding ? representation.encodedAs(encoding) : representation.raw };
}

/**
 * encodedAnswer for a large body made for one request (a history page): compressed off the event
 * loop, so other requests are answered meanwhile.
 */
export async function encodedAnswerLater(
  acceptEncoding: string | undefined,
  status: number,
  body: string,
  headers: OutgoingHttpHeaders,
): Promise<Answer> {
  const raw = Buffer.from(body, 'utf8');
  let encoding = negotiateEncoding(acceptEncoding);
  if (encoding === 'identity' || raw.byteLength < minimumCompressedBytes) encoding = undefined;
  if (!encoding) return { status, headers, body: raw };
  headers['content-encoding'] = encoding;
  return { status, headers, body: await laterEncoders[encoding]!(raw) };
}
