// Every door refuses request bodies over the limit with 413, before anything parses them.
import type { Plugin } from 'graphql-yoga';
import { readBodyText } from '../rest/body.ts';
import type { Logger } from '../logging.ts';
import { refusal, unexpectedFailure } from './refusal.ts';
import { carryRequestLog } from './request-log.ts';

export function useBodyLimit(limitBytes: number, logger: Logger): Plugin {
  return {
    async onRequest({ request, setRequest, endResponse }) {
      // Only these methods carry bodies that a door reads; the others are answered without reading.
      if (!request.body || !['POST', 'PUT', 'PATCH'].includes(request.method)) return;
      const declared = request.headers.get('content-length');
      if (declared !== null && Number(declared) <= limitBytes) return;
      try {
        // Too large by its own account, or of unknown length (chunked): read it here under the limit.
        const body = await readBodyText(request, limitBytes);
        if (!body.ok) {
          endResponse(refusal(request, 413, 'PAYLOAD_TOO_LARGE', body.detail, { connection: 'close' }));
          return;
        }
        const headers = new Headers(request.headers);
        headers.delete('transfer-encoding');
        headers.set('content-length', String(Buffer.byteLength(body.text)));
        const rebuilt = new Request(request.url, { method: request.method, headers, body: body.text, signal: request.signal });
        carryRequestLog(request, rebuilt);
        setRequest(rebuilt);
      } catch (error) {
        endResponse(unexpectedFailure(request, logger, error));
      }
    },
  };
}
