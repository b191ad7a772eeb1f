// Error answers of the REST API: application/problem+json (RFC 9457) with our stable codes.
import { STATUS_CODES } from 'node:http';
import type { StorageUnavailableError } from '../config/errors.ts';
import { toLegacyPath } from '../config/legacy.ts';
import type { Problem } from '../config/problems.ts';
import { Response } from '../http/fetch-api.ts';
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

/** The problem+json body of an answer (RFC 9457), with our stable code. */
export function problemBody(
  status: number,
  code: string,
  detail: string,
  problems?: readonly RestProblem[],
): string {
  const body = {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    code,
    detail,
    ...(problems ? { problems } : {}),
  };
  return JSON.stringify(body);
}

export function problemResponse(
  status: number,
  code: string,
  detail: string,
  options: { problems?: readonly RestProblem[]; headers?: Record<string, string> } = {},
): Response {
  return new Response(problemBody(status, code, detail, options.problems), {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...options.headers },
  });
}

/** The REST answer to StorageUnavailableError: 503, STORAGE_UNAVAILABLE, and when to retry. */
export function storageUnavailable(error: StorageUnavailableError): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  return {
    status: 503,
    headers: {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'retry-after': String(storageRetryAfterSeconds),
    },
    body: problemBody(503, 'STORAGE_UNAVAILABLE', error.message),
  };
}

export function storageUnavailableResponse(error: StorageUnavailableError): Response {
  const { status, headers, body } = storageUnavailable(error);
  return new Response(body, { status, headers });
}
