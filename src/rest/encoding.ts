// JSON answers compressed as the client's Accept-Encoding allows (gzip preferred, then br, deflate).
import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';
import Negotiator from 'negotiator';

const encoders: Record<string, (body: Buffer) => Buffer> = {
  gzip: (body) => gzipSync(body),
  // Brotli's default quality (11) costs milliseconds per answer; 5 keeps most of the gain.
  br: (body) => brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }),
  deflate: (body) => deflateSync(body),
};
/** Our preference among the encodings a client accepts equally: the fastest first. */
const preferred = ['gzip', 'br', 'deflate', 'identity'];
/** Below this, compressing costs more than it saves. */
export const minimumCompressedBytes = 256;

export function encodedResponse(request: Request, status: number, body: string, headers: Record<string, string>): Response {
  const raw = Buffer.from(body, 'utf8');
  const negotiator = new Negotiator({ headers: { 'accept-encoding': request.headers.get('accept-encoding') ?? undefined } });
  const encoding = (negotiator.encoding as (available: string[], options: { preferred: string[] }) => string | undefined)(preferred, { preferred });
  const encode = encoding && raw.byteLength >= minimumCompressedBytes ? encoders[encoding] : undefined;
  const responseHeaders: Record<string, string> = { vary: 'accept-encoding', ...headers };
  if (encode) responseHeaders['content-encoding'] = encoding!;
  return new Response((encode ? encode(raw) : raw) as unknown as BodyInit, { status, headers: responseHeaders });
}
