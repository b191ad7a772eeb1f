// Every door refuses request bodies over the limit with 413, before anything parses them.
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logging.ts';
import { readBodyText } from '../rest/body.ts';
import { refusal, unexpectedFailure } from './refusal.ts';
import { carryRequestLog } from './request-log.ts';

export function useBodyLimit(limitBytes: number, logger: Logger): Plugin {
  return {
    onRequest({ request, setRequest, endResponse }) {
      // Only these methods carry bodies that a door reads; the others are answered without reading.
      if (!request.body || !['POST', 'PUT', 'PATCH'].includes(request.method)) return;
      const declared = request.headers.get('content-length');
      // Synchronous when the declared length is within the limit (nearly always): no promise for yoga to wait on.
      if (declared !== null && Number(declared) <= limitBytes) return;
      return readUnderLimit(request, setRequest, endResponse);
    },
  };

  /** Too large by its own account, or of unknown length (chunked): read here under the limit. */
  async function readUnderLimit(
    request: Request,
    setRequest: (request: Request) => void,
    endResponse: (response: Response) => void,
  ): Promise<void> {
    try {
      const body = await readBodyText(request, limitBytes);
      if (!body.ok) {
        endResponse(refusal(request, 413, 'PAYLOAD_TOO_LARGE', body.detail, { connection: 'close' }));
        return;
      }
      const headers = new Headers(request.headers);
      headers.delete('transfer-encoding');
      headers.set('content-length', String(Buffer.byteLength(body.text)));
      const rebuilt = new Request(request.url, {
        method: request.method,
        headers,
        body: body.text,
        signal: request.signal,
      });
      carryRequestLog(request, rebuilt);
      setRequest(rebuilt);
    } catch (error) {
      endResponse(unexpectedFailure(request, logger, error));
    }
  }
}
