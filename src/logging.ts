// Structured JSON logs (pino) for the gateway, and the adapter yoga logs through.

import type { YogaLogger } from 'graphql-yoga';
import { type DestinationStream, type Logger, pino } from 'pino';
import { loggableError } from './loggable-error.ts';
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
