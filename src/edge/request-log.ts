// A request id for every request (kept from x-request-id when sane), and one log line per answer.
import { randomFillSync } from 'node:crypto';
import type { Logger } from '../logging.ts';

/** Random bytes for new request ids, drawn 4 KiB (256 ids) at a time. */
const idBytes = Buffer.alloc(4096);
let idBytesUsed = idBytes.length;

/**
 * A new request id: 128 random bits as 22 base64url characters, as unique and unguessable as a
 * random UUID. One native call per id, where node's randomUUID joins 20 pieces of text.
 */
function newRequestId(): string {
  if (idBytesUsed === idBytes.length) {
    randomFillSync(idBytes);
    idBytesUsed = 0;
  }
  const id = idBytes.toString('base64url', idBytesUsed, idBytesUsed + 16);
  idBytesUsed += 16;
  return id;
}

/** The client's x-request-id when sane, else a new one. */
export function requestIdFrom(given: string | null | undefined): string {
  return given && /^[\w.:-]{1,100}$/.test(given) ? given : newRequestId();
}

/** The one log line of an answer. Method, path and status only: never headers (keys) nor bodies (configurations). */
export function logAnswer(
  logger: Logger,
  requestId: string,
  method: string,
  path: string,
  status: number,
  startedAt: number,
): void {
  if (logger.isLevelEnabled('info'))
    logger.info(
      { requestId, method, path, status, ms: Math.round((performance.now() - startedAt) * 10) / 10 },
      'request',
    );
}
