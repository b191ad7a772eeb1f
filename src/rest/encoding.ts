// JSON answers compressed as the client's Accept-Encoding prefers (br, gzip or deflate).
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import Negotiator from 'negotiator';

const encoders: Record<string, (body: Buffer) => Buffer> = {
  br: (body) => brotliCompressSync(body),
  gzip: (body) => gzipSync(body),
  deflate: (body) => deflateSync(body),
};
const available = ['br', 'gzip', 'deflate', 'identity'];
/** Below this, compressing costs more than it saves. */
const minimumBytes = 256;

export function encodedResponse(request: Request, status: number, body: string, headers: Record<string, string>): Response {
  const raw = Buffer.from(body, 'utf8');
  const encoding = new Negotiator({ headers: { 'accept-encoding': request.headers.get('accept-encoding') ?? undefined } }).encoding(available);
  const encode = encoding && raw.byteLength >= minimumBytes ? encoders[encoding] : undefined;
  const responseHeaders: Record<string, string> = { vary: 'accept-encoding', ...headers };
  if (encode) responseHeaders['content-encoding'] = encoding!;
  return new Response((encode ? encode(raw) : raw) as unknown as BodyInit, { status, headers: responseHeaders });
}
