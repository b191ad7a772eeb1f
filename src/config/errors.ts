// The expected failures of the domain service; each door turns them into its own protocol.
import type { Problem } from './problems.ts';

export class UnauthenticatedError extends Error {
  constructor(message = 'a valid API key is required in the x-api-key header') {
    super(message);
    this.name = 'UnauthenticatedError';
  }
}

export class ForbiddenError extends Error {
  constructor(
    message = 'this API key may not do this',
    /** The code the doors answer: FORBIDDEN, or a more precise one (WRONG_KEY_KIND). */
    readonly code: string = 'FORBIDDEN',
  ) {
    super(message);
    this.name = 'ForbiddenError';
  }
}

/** A key of the wrong kind for what it asks: a publishable key writing or reading history, say. */
export class WrongKeyKindError extends ForbiddenError {
  constructor(message: string) {
    super(message, 'WRONG_KEY_KIND');
    this.name = 'WrongKeyKindError';
  }
}

/** Unknown organisation, or one the caller may not see: the two are indistinguishable on purpose. */
export class OrgNotFoundError extends Error {
  constructor(readonly orgId: string) {
    super(`organisation "${orgId}" not found`);
    this.name = 'OrgNotFoundError';
  }
}

/** What an admin key may do and an adviser key may not, each refused with its own message. */
export type AdminAction = 'change' | 'history';

const adminOnly: Record<AdminAction, string> = {
  change: 'this API key may read the configuration but not change it (role adviser)',
  history: 'the history of changes is for admin keys; this API key is an adviser key',
};

/** An adviser key asking for what only an admin key may do. */
export function adviserRefused(action: AdminAction): ForbiddenError {
  return new ForbiddenError(adminOnly[action]);
}

/**
 * A bad argument of a query or subscription (a version out of range, a field path that is not
 * one, a foreign cursor): the request is wrong, not a configuration, so it says so.
 */
export class InvalidArgumentError extends Error {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(`${argument}: ${message}`);
    this.name = 'InvalidArgumentError';
  }
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(
      `the configuration is not valid: ${problems.map((p) => `${p.path.join('.') || '(root)'}: ${p.message}`).join('; ')}`,
    );
    this.name = 'ConfigValidationError';
  }
}

export class VersionConflictError extends Error {
  constructor(
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(`expected version ${expectedVersion} but the current version is ${currentVersion}`);
    this.name = 'VersionConflictError';
  }
}

/** An organisation id that is already taken (CLI `org create`). */
export class OrgExistsError extends Error {
  constructor(readonly orgId: string) {
    super(`organisation "${orgId}" already exists`);
    this.name = 'OrgExistsError';
  }
}

/** A version the organisation never had (orgConfigAt, revert). */
export class VersionNotFoundError extends OrgNotFoundError {
  constructor(
    orgId: string,
    readonly version: number,
  ) {
    super(orgId);
    this.message = `version ${version} of organisation "${orgId}" not found`;
    this.name = 'VersionNotFoundError';
  }
}

/**
 * The database cannot write (or cannot be reached) at the moment: a full disk, read-only files, an
 * I/O error, a lock held past the busy timeout, a lost PostgreSQL connection. Nothing was written;
 * the same request may succeed later. The cause (for the log, never for the client) is `cause`.
 */
export class StorageUnavailableError extends Error {
  /** The database's own code of the failure (SQLITE_FULL, an SQLSTATE, ECONNREFUSED), for the log. */
  readonly databaseCode: string | undefined;

  constructor(cause: unknown) {
    super('the database cannot write at the moment; nothing was written, retry later', { cause });
    this.name = 'StorageUnavailableError';
    const code = (cause as { code?: unknown } | null)?.code;
    this.databaseCode = typeof code === 'string' ? code : undefined;
  }
}
