// Which database failures mean "storage unavailable" (retry later) rather than a defect, and the
// start-up check of a SQLite file. The stores wrap those failures in StorageUnavailableError.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StorageUnavailableError } from '../config/errors.ts';

/** Seconds a client is asked to wait (Retry-After) before trying again a request refused as STORAGE_UNAVAILABLE. */
export const storageRetryAfterSeconds = 5;

/** SQLite result codes (primary; extended codes such as SQLITE_IOERR_WRITE start with them) of a database that cannot write. */
const sqliteUnavailable = [
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
];

export function isSqliteStorageFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && sqliteUnavailable.some((prefix) => code.startsWith(prefix));
}

/** Socket errors of a connection to PostgreSQL that is refused, cut or silent. */
const socketErrors = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/**
 * PostgreSQL: connection exceptions (SQLSTATE class 08), insufficient resources such as a full disk
 * (class 53), a read-only transaction (25006, e.g. a standby), the server shutting down or starting
 * (57P01 to 57P03), and node-postgres's own errors of a lost or unreachable connection (no SQLSTATE).
 */
export function isPostgresStorageFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (/^(08|53)/.test(code) || code === '25006' || /^57P0[123]$/.test(code)) return true;
    if (socketErrors.has(code)) return true;
  }
  // node-postgres: "Connection terminated unexpectedly", "Connection terminated due to connection
  // timeout", "timeout exceeded when trying to connect", "Query read timeout", "Client has encountered a connection error".
  if (
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|not queryable/i.test(
      error.message,
    )
  )
    return true;
  // drizzle wraps driver errors ("Failed query: ..."), with the driver's error as cause.
  return error.cause !== undefined && error.cause !== error && isPostgresStorageFailure(error.cause);
}

/** Runs a store operation, turning the failures `isFailure` names into StorageUnavailableError. */
export async function namingStorageFailures<T>(
  isFailure: (error: unknown) => boolean,
  operation: () => Promise<T>,
  onFailure?: (error: unknown) => void,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof StorageUnavailableError) throw error;
    if (!isFailure(error)) throw error;
    onFailure?.(error);
    throw new StorageUnavailableError(error);
  }
}

/** A database file that cannot be served: the start stops with this one line, naming the file and what to do. */
export class DatabaseFileError extends Error {
  constructor(
    readonly filename: string,
    problem: string,
  ) {
    super(
      `the database file ${filename} ${problem}. Restore it from a backup, or move it away to start with a new, empty database.`,
    );
    this.name = 'DatabaseFileError';
  }
}

const sqliteHeader = Buffer.from('SQLite format 3\0', 'latin1');

/** Throws DatabaseFileError when a file exists, is not empty, and does not start with SQLite's header. */
export function checkSqliteHeader(filename: string): void {
  let size: number;
  try {
    size = statSync(filename).size;
  } catch {
    return; // no file yet: SQLite creates it
  }
  if (size === 0) return;
  const head = Buffer.alloc(sqliteHeader.length);
  const fd = openSync(filename, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(sqliteHeader)) throw new DatabaseFileError(filename, 'is not a SQLite database');
}

/** SQLite's codes of a damaged file. */
export function isSqliteCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || String(code).startsWith('SQLITE_CORRUPT_');
}
