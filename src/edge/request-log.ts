// A request id for every request (kept from x-request-id when sane), and one log line per answer.
import { randomFillSync } from 'node:crypto';
import type { Logger } from '../logging.ts';

/** A new request id's length: 22 base64url characters, 132 random bits. */
const idLength = 22;
/**
 * Random bytes for 16 ids at a time, 264 (a multiple of 3: base64url without padding). Few, because
 * an id is a slice of their text, and a slice keeps its whole text alive as long as it lives (a
 * stream's context keeps its request id for hours): 352 characters per id at most.
 */
const idBytes = Buffer.alloc(264);
/** idBytes as base64url text, cut into ids. */
let idText = '';
let idTextUsed = 0;

/**
 * A new request id: 22 base64url characters of random bytes (132 bits), as unique and unguessable as
 * a random UUID. The bytes are drawn and turned into text once per 16 ids, each id then a slice of
 * that text; node's randomUUID joins 20 pieces of text per id.
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
