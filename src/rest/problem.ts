// Error answers of the REST API: application/problem+json (RFC 9457) with our stable codes.
import type { StorageUnavailableError } from '../config/errors.ts';
import { toLegacyPath } from '../config/legacy.ts';
import type { Problem } from '../config/problems.ts';
import { type Answer, problemAnswer } from '../edge/edge.ts';
import { storageRetryAfterSeconds } from '../store/storage-failures.ts';

export interface RestProblem {
  /** JSON pointer (RFC 6901) to the key of the flat body, e.g. "/workingHours/1". */
  readonly pointer: string;
  readonly message: string;
  readonly code: string;
}

export function jsonPointer(path: readonly (string | number)[]): string {
  return path.map((part) => `/${String(part).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** A domain problem, located by its legacy key rather than its path in the nested model. */
export function toRestProblem(problem: Problem): RestProblem {
  return { pointer: jsonPointer(toLegacyPath(problem.path)), message: problem.message, code: problem.code };
}

/** The REST answer to StorageUnavailableError: 503, STORAGE_UNAVAILABLE, and when to retry. */
export function storageUnavailable(error: StorageUnavailableError): Answer {
  return problemAnswer(503, 'STORAGE_UNAVAILABLE', error.message, {
    headers: { 'retry-after': String(storageRetryAfterSeconds) },
  });
}
