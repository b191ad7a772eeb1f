// Structured JSON logs (pino) for the gateway, and the adapter yoga logs through.

import type { YogaLogger } from 'graphql-yoga';
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from './settings.ts';

export type { Logger } from 'pino';

/** One JSON object per line on stdout. Keys are never logged; configuration payloads only at debug. */
export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'org-config-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: loggableError },
    },
    destination,
  );
}

export interface LoggableError {
  readonly type: string;
  readonly message: string;
  /** A database's SQLSTATE (e.g. 22021, a character the encoding cannot hold). */
  readonly code?: string;
  readonly stack?: string;
  readonly cause?: LoggableError;
}

/**
 * An error as a log line or the CLI may show it, without the values of settings: a failed query's
 * parameters (which drizzle puts in its message) and a database's own message, detail and context
 * (which may quote the data) are left out; the query text, the SQLSTATE and PostgreSQL's routine stay.
 */
export function loggableError(error: unknown, depth = 0): LoggableError {
  if (!(error instanceof Error))
    return { type: typeof error, message: 'a value that is not an Error was thrown' };
  const fields = error as Error & {
    query?: unknown;
    params?: unknown;
    code?: unknown;
    severity?: unknown;
    routine?: unknown;
  };
  let message = error.message;
  if (typeof fields.query === 'string' && 'params' in fields) message = `Failed query: ${fields.query}`;
  else if (typeof fields.severity === 'string' && typeof fields.code === 'string')
    message = `database error ${fields.code}${typeof fields.routine === 'string' ? ` in ${fields.routine}` : ''}`;
  const frames = (error.stack ?? '').split('\n').filter((line) => line.startsWith('    at '));
  const cause = error.cause !== undefined && depth < 3 ? loggableError(error.cause, depth + 1) : undefined;
  return {
    type: error.name,
    // With its causes' messages, as pino's own serialiser writes it.
    message: cause ? `${message}: ${cause.message}` : message,
    ...(typeof fields.code === 'string' ? { code: fields.code } : {}),
    stack: [`${error.name}: ${message}`, ...frames].join('\n'),
    ...(cause ? { cause } : {}),
  };
}

function emit(log: (object: Record<string, unknown>, message?: string) => void, args: unknown[]): void {
  const [first, ...rest] = args;
  if (first instanceof Error) log({ err: first, details: rest.length ? rest : undefined });
  else log(rest.length ? { details: rest } : {}, typeof first === 'string' ? first : JSON.stringify(first));
}

export function yogaLogger(logger: Logger): YogaLogger {
  return {
    debug: (...args) => emit(logger.debug.bind(logger), args),
    info: (...args) => emit(logger.info.bind(logger), args),
    warn: (...args) => emit(logger.warn.bind(logger), args),
    error: (...args) => emit(logger.error.bind(logger), args),
  };
}
