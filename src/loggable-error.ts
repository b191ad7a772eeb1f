// Errors as logs and the CLI show them: without the values of settings (no pino here, for the CLI's start).

export interface LoggableError {
  readonly type: string;
  readonly message: string;
  /** A database's SQLSTATE (e.g. 22021, a character the encoding cannot hold). */
  readonly code?: string;
  /** The database's own error code of a StorageUnavailableError (e.g. SQLITE_FULL). */
  readonly databaseCode?: string;
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
    databaseCode?: unknown;
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
    ...(typeof fields.databaseCode === 'string' ? { databaseCode: fields.databaseCode } : {}),
    stack: [`${error.name}: ${message}`, ...frames].join('\n'),
    ...(cause ? { cause } : {}),
  };
}
