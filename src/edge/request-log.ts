// A request id for every request (kept from x-request-id when sane), and one log line per answer.
import { randomFillSync } from 'node:crypto';
import type { Logger } from '../logging.ts';

/** A new request id's length: 22 base64url characters, 132 random bits. */
const idLength = 22;
/** Random bytes for new request ids, drawn 4,095 (a multiple of 3: base64url without padding) at a time. */
const idBytes = Buffer.alloc(4095);
/** idBytes as base64url text, cut into ids (248 per draw). */
let idText = '';
let idTextUsed = 0;

/**
 * A new request id: 22 base64url characters of random bytes (132 bits), as unique and unguessable as
 * a random UUID. The bytes are turned into text once per 248 ids, each id then a slice of that text;
 * node's randomUUID joins 20 pieces of text per id.
 */
function newRequestId(): string {
  if (idTextUsed + idLength > idText.length) {
    idText = randomFillSync(idBytes).toString('base64url');
    idTextUsed = 0;
  }
  const id = idText.slice(idTextUsed, idTextUsed + idLength);
  idTextUsed += idLength;
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
