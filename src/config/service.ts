// The one way in: every door reads, changes, audits and follows configurations through this service.
import { z } from 'zod';
import { type Actor, canSeeOrg, canWrite, isPublishable } from '../auth/actor.ts';
import { mintStreamTicket } from '../auth/stream-tickets.ts';
import type { ChangeEvents, RevisionStream } from '../events/change-feed.ts';
import { type OpenStateEvent, OpenStateTimer } from '../events/open-state-timer.ts';
import type { ConfigStore, OrgSummary } from '../store/config-store.ts';
import { getPath } from './catalogue.ts';
import { checkPatch } from './checked-patches.ts';
import { checkSettings } from './checked-settings.ts';
import {
  type AdminAction,
  adviserRefused,
  ConfigValidationError,
  ForbiddenError,
  InvalidArgumentError,
  OrgNotFoundError,
  UnauthenticatedError,
  VersionConflictError,
  VersionNotFoundError,
  WrongKeyKindError,
} from './errors.ts';
import { followablePaths, touches } from './followed-fields.ts';
import {
  defaultSettings,
  type OrgConfig,
  type OrgConfigPatch,
  type OrgConfigSettings,
  orgConfigSchema,
  settingsDerivedLeaves,
} from './model.ts';
import { applyPatch, diffSettings, type SettingChange } from './patch.ts';
import { check, type Problem } from './problems.ts';
import { configAt, type Door, type Revision, type RevisionActor, type RevisionMeta } from './revision.ts';
import { isPublicSetting, isReadableByWidget, outsideGroups, patchedPaths } from './visibility.ts';

export interface UpdateRequest {
  readonly orgId: string;
  /** A partial change in the nested model; validated here whatever door it came from. */
  readonly patch: unknown;
  /** When given, the update applies only if the config is still at this version. */
  readonly expectedVersion?: number | null;
  readonly door: Door;
  /** Validate and report the would-be changes; write and publish nothing. */
  readonly dryRun?: boolean;
  /**
   * Problems the door found translating its request (legacy keys that are not settings): refused
   * here, reported together with every other problem of the patch.
   */
  readonly doorProblems?: readonly Problem[];
}

export interface UpdateResult {
  /** The configuration as committed (for a dry run: as it would be, at the current version). */
  readonly config: OrgConfig;
  /** The settings that changed (or would change), with before and after values. */
  readonly changes: readonly SettingChange[];
  readonly dryRun: boolean;
}

export interface RevertRequest {
  readonly orgId: string;
  readonly toVersion: number;
  readonly expectedVersion?: number | null;
  readonly door: Door;
}

export interface HistoryPage {
  readonly revisions: readonly Revision[];
  readonly hasMore: boolean;
}

export const orgIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'an organisation id is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  );

export const maxHistoryPage = 100;
/**
 * A history page holds revisions up to this many bytes as stored (their changes and settings), and
 * always at least one: a page of large revisions is shorter, and says where to go on. Bounds the
 * memory and the time one request takes (serialising a page blocks the event loop).
 */
export const maxHistoryPageBytes = 128 * 1024;

/** How many of the newest-first `sizes` fit a page: at most `first`, at least one when there is one. */
export function historyPageLength(
  sizes: readonly { bytes: number }[],
  first: number,
  maxBytes: number,
): number {
  let total = 0;
  let length = 0;
  for (const { bytes } of sizes.slice(0, first)) {
    total += bytes;
    if (length > 0 && total > maxBytes) break;
    length++;
  }
  return length;
}

/**
 * A rule across settings (an SLA range) reports on one of them; when the patch left that one out
 * but named a sibling, the problem belongs to what the client sent.
 */
function pointAtPatched(problem: Problem, patch: unknown): Problem {
  if (getPath(patch, problem.path) !== undefined) return problem;
  const parent = problem.path.slice(0, -1);
  const siblings = getPath(patch, parent);
  if (siblings === null || typeof siblings !== 'object') return problem;
  const sent = Object.keys(siblings);
  return sent.length === 1 ? { ...problem, path: [...parent, sent[0]!] } : problem;
}

/**
 * Every problem of a refused patch at once: its own (and the door's), then those of its merge with
 * the stored settings that the patch alone cannot show (an SLA bound against the stored other one),
 * each on the key the patch sent; a problem found both ways is listed once.
 */
export function problemsOfPatch(
  current: OrgConfigSettings,
  patch: unknown,
  own: readonly Problem[],
  nowMs: number,
): Problem[] {
  let merged: ReturnType<typeof checkSettings>;
  try {
    merged = checkSettings(applyPatch(current, patch as OrgConfigPatch, nowMs));
  } catch {
    // A refused patch may not even apply (legacy workingHours in a zone the patch got wrong): its own problems say it.
    return [...own];
  }
  const problems = [...own];
  const seen = new Set(own.map((problem) => `${problem.code} ${problem.path.join('.')}`));
  // A derived setting the patch sent (the legacy workingHours) is judged as sent, by its own rules:
  // the settings it was written into would only say the same again, on keys the client never sent.
  const writtenThrough = settingsDerivedLeaves
    .filter(({ path }) => getPath(patch, path) !== undefined)
    .flatMap(({ derived }) => derived.derivedFrom);
  if (!merged.ok)
    for (const found of merged.problems) {
      const dotted = found.path.join('.');
      if (writtenThrough.some((source) => dotted === source || dotted.startsWith(`${source}.`))) continue;
      const problem = pointAtPatched(found, patch);
      const key = `${problem.code} ${problem.path.join('.')}`;
      if (!seen.has(key)) {
        seen.add(key);
        problems.push(problem);
      }
    }
  return problems;
}

function revisionActor(actor: Actor): RevisionActor {
  if (actor.kind !== 'apiKey') return { keyId: null, role: 'operator' };
  // Only admin keys write (authorizeAdmin); a widget key never reaches here.
  return { keyId: actor.keyId, role: actor.role === 'widget' ? 'adviser' : actor.role };
}

const publishableNeverWrites = 'a publishable (pk_) key reads public settings only; it never writes';

/** Refuses a key limited to some groups a change of settings outside them, naming those settings. */
function checkGroups(actor: Actor, paths: readonly string[]): void {
  if (actor.kind !== 'apiKey') return;
  const outside = outsideGroups(paths, actor.groups);
  if (outside.length > 0)
    throw new ForbiddenError(
      `this API key may change only ${actor.groups!.join(', ')}; not ${outside.join(', ')}; nothing was written`,
    );
}

/** A revision that changed at least one public setting. */
function touchesPublic(revision: Revision): boolean {
  return revision.changes.some((change) => isPublicSetting(change.path));
}

export class ConfigService {
  constructor(
    private readonly store: ConfigStore,
    /** Told of each local commit so subscribers hear of it at once; absent where nobody subscribes (the CLI). */
    private readonly events?: ChangeEvents,
    /**
     * The time (ms since the epoch): keys' expiry is checked against it, and writes of time-dependent
     * settings (legacy workingHours) are read at it.
     */
    readonly clock: () => number = Date.now,
  ) {}

  async get(actor: Actor | null, orgId: string): Promise<OrgConfig> {
    this.authorizeRead(actor, orgId);
    const config = await this.store.getConfig(orgId);
    if (!config) throw new OrgNotFoundError(orgId);
    return config;
  }

  /** What get answers, when the store holds it in memory; undefined when get must go to the store. */
  peek(actor: Actor | null, orgId: string): OrgConfig | undefined {
    this.authorizeRead(actor, orgId);
    return this.store.peekConfig?.(orgId);
  }

  /**
   * Validates the patch, then in one store transaction: checks the expected version, merges,
   * validates the whole result (rules across settings see the stored values), writes, bumps the
   * version and appends the revision. A patch that changes nothing writes nothing and keeps the version.
   */
  async update(actor: Actor | null, request: UpdateRequest): Promise<UpdateResult> {
    const caller = this.authorizeAdmin(actor, request.orgId);
    const patch = checkPatch(request.patch);
    const doorProblems = request.doorProblems ?? [];
    if (!patch.ok || doorProblems.length > 0) {
      // Refused whatever the stored settings are; read them only to list every problem at once.
      const current = await this.store.getConfig(request.orgId);
      if (!current) throw new OrgNotFoundError(request.orgId);
      const own = [...doorProblems, ...(patch.ok ? [] : patch.problems)];
      throw new ConfigValidationError(problemsOfPatch(current.settings, request.patch, own, this.clock()));
    }
    // What the patch names, before anything is written (dry runs too).
    checkGroups(caller, patchedPaths(patch.value));
    return this.change(
      caller,
      request,
      (settings) => applyPatch(settings, patch.value, this.clock()),
      patch.value,
    );
  }

  /** Restores the settings of an earlier version, as a new revision of its own. */
  async revert(actor: Actor | null, request: RevertRequest): Promise<UpdateResult> {
    const caller = this.authorizeAdmin(actor, request.orgId);
    const target = await this.store.getRevision(request.orgId, request.toVersion);
    if (!target) {
      if (!(await this.store.getConfig(request.orgId))) throw new OrgNotFoundError(request.orgId);
      throw new VersionNotFoundError(request.orgId, request.toVersion);
    }
    return this.change(caller, { ...request, revertedToVersion: request.toVersion }, () => target.settings);
  }

  private async change(
    caller: Actor,
    request: {
      orgId: string;
      expectedVersion?: number | null;
      door: Door;
      dryRun?: boolean;
      revertedToVersion?: number;
    },
    next: (current: OrgConfigSettings) => OrgConfigSettings,
    patch?: unknown,
  ): Promise<UpdateResult> {
    let changes: SettingChange[] = [];
    const decide = (current: OrgConfig) => {
      const { expectedVersion } = request;
      if (expectedVersion != null && expectedVersion !== current.version) {
        throw new VersionConflictError(expectedVersion, current.version);
      }
      const merged = checkSettings(next(current.settings));
      // A revert's changes are known only now; throwing here writes nothing.
      if (merged.ok && patch === undefined)
        checkGroups(
          caller,
          diffSettings(current.settings, merged.value).map((change) => change.path),
        );
      if (!merged.ok)
        throw new ConfigValidationError(
          patch === undefined
            ? merged.problems
            : merged.problems.map((problem) => pointAtPatched(problem, patch)),
        );
      changes = diffSettings(current.settings, merged.value);
      return { settings: merged.value, changes };
    };

    if (request.dryRun) {
      const current = await this.store.getConfig(request.orgId);
      if (!current) throw new OrgNotFoundError(request.orgId);
      const { settings } = decide(current);
      return { config: { ...current, settings }, changes, dryRun: true };
    }

    const meta: RevisionMeta = {
      actor: revisionActor(caller),
      door: request.door,
      revertedToVersion: request.revertedToVersion ?? null,
    };
    const config = await this.store.updateConfig(
      request.orgId,
      (current) => {
        const decided = decide(current);
        return decided.changes.length > 0 ? decided : null;
      },
      meta,
    );
    if (!config) throw new OrgNotFoundError(request.orgId);
    if (changes.length > 0) this.events?.notifyCommitted();
    return { config, changes, dryRun: false };
  }

  /** The organisation's revisions, newest first, `first` at a time, below version `beforeVersion`. Admin keys only. */
  async history(
    actor: Actor | null,
    orgId: string,
    page: { first: number; beforeVersion?: number | null },
  ): Promise<HistoryPage> {
    if (isPublishable(actor) && actor?.kind === 'apiKey' && canSeeOrg(actor, orgId))
      throw new WrongKeyKindError('a publishable (pk_) key never sees history');
    this.authorizeAdmin(actor, orgId, 'history');
    if (!(await this.store.getConfig(orgId))) throw new OrgNotFoundError(orgId);
    const first = Math.min(Math.max(page.first, 0), maxHistoryPage);
    const sizes = await this.store.revisionSizes(orgId, {
      beforeVersion: page.beforeVersion,
      limit: first + 1,
    });
    const length = historyPageLength(sizes, first, maxHistoryPageBytes);
    const revisions =
      length === 0
        ? []
        : await this.store.listRevisions(orgId, { beforeVersion: page.beforeVersion, limit: length });
    // Revisions are never deleted: those sized are those read.
    return { revisions, hasMore: sizes.length > length };
  }

  /** The whole configuration as it was at `version`. */
  async configAt(actor: Actor | null, orgId: string, version: number): Promise<OrgConfig> {
    const caller = this.authorizeRead(actor, orgId);
    if (isPublishable(caller))
      throw new WrongKeyKindError(
        'a publishable (pk_) key reads the current public settings only, not history',
      );
    const revision = await this.store.getRevision(orgId, version);
    if (revision) return configAt(revision);
    if (!(await this.store.getConfig(orgId))) throw new OrgNotFoundError(orgId);
    throw new VersionNotFoundError(orgId, version);
  }

  /**
   * Revisions of the organisation as they are committed, after `sinceVersion` when given (the
   * missed ones first), only those touching `fields` (setting or group paths) when given.
   */
  async subscribe(
    actor: Actor | null,
    orgId: string,
    options: { sinceVersion?: number | null; fields?: readonly string[] | null },
  ): Promise<RevisionStream> {
    if (!this.events) throw new Error('this service was created without a change feed');
    const caller = this.authorizeRead(actor, orgId);
    const widget = isPublishable(caller);
    const unknown = (options.fields ?? []).filter((field) => !followablePaths.has(field));
    if (unknown.length > 0)
      throw new InvalidArgumentError(
        'fields',
        `${unknown.map((field) => `"${field}"`).join(', ')} ${unknown.length === 1 ? 'is not a setting or group path' : 'are not setting or group paths'} of OrgConfig, such as "branding.color" or "sla"`,
      );
    const secret = widget ? (options.fields ?? []).filter((field) => !isReadableByWidget(field)) : [];
    if (secret.length > 0)
      throw new ForbiddenError(
        `a publishable (pk_) key follows public settings only; not ${secret.join(', ')}`,
      );
    const current = await this.store.getConfig(orgId);
    if (!current) throw new OrgNotFoundError(orgId);
    const { sinceVersion } = options;
    if (sinceVersion != null && (sinceVersion < 0 || sinceVersion > current.version))
      throw new InvalidArgumentError(
        'sinceVersion',
        `${sinceVersion} is not a version to follow from: give one from 0 to the current version, ${current.version}`,
      );
    const fields = options.fields?.length ? options.fields : null;
    // A widget key hears only of changes to public settings (and sees only those: see the event type).
    const accept = fields
      ? widget
        ? (revision: Revision) => touches(revision, fields) && touchesPublic(revision)
        : (revision: Revision) => touches(revision, fields)
      : widget
        ? touchesPublic
        : undefined;
    // Without sinceVersion, follow from the version current now, so that nothing committed between
    // this call and the first read of the stream is missed.
    return this.events.subscribe(orgId, sinceVersion ?? current.version, accept);
  }

  /** The one timer of open/closed moments of this process, made with its first follower. */
  private openStateTimer: OpenStateTimer | null = null;

  /**
   * The organisation's open state now, then each time it opens or closes (at the moment, with no
   * request needed) or a schedule change flips it; what readers may read.
   */
  async followOpenState(actor: Actor | null, orgId: string): Promise<AsyncIterable<OpenStateEvent>> {
    if (!this.events) throw new Error('this service was created without a change feed');
    const config = await this.get(actor, orgId);
    this.openStateTimer ??= new OpenStateTimer(this.events, this.clock);
    return this.openStateTimer.stream(config);
  }

  /** Throws UnauthenticatedError when the actor's key has been revoked, or has expired, since it was checked. */
  async assertStillValid(actor: Actor | null): Promise<void> {
    if (actor?.kind !== 'apiKey') return;
    const record = await this.store.findApiKeyByHash(actor.keyHash);
    if (!record) throw new UnauthenticatedError('the API key has been revoked');
    // Against the expiry stored now: a rotation may have brought it forward.
    if (record.expiresAt !== null && record.expiresAt.getTime() <= this.clock())
      throw new UnauthenticatedError('the API key has expired');
  }

  /** Creates an organisation with the documented defaults, or with the given (validated) settings. */
  async createOrg(
    actor: Actor | null,
    orgId: string,
    settings?: OrgConfigSettings,
    door: Door = 'cli',
  ): Promise<OrgConfig> {
    const caller = this.authenticated(actor);
    if (caller.kind !== 'operator') throw new ForbiddenError('only an operator may create organisations');
    const id = check(orgIdSchema, orgId);
    if (!id.ok)
      throw new ConfigValidationError(id.problems.map((problem) => ({ ...problem, path: ['orgId'] })));
    const initial = check(orgConfigSchema, settings ?? defaultSettings(orgId));
    if (!initial.ok) throw new ConfigValidationError(initial.problems);
    const config = await this.store.createOrg(id.value, initial.value, {
      actor: revisionActor(caller),
      door,
    });
    this.events?.notifyCommitted();
    return config;
  }

  async listOrgs(actor: Actor | null): Promise<OrgSummary[]> {
    const caller = this.authenticated(actor);
    const orgs = await this.store.listOrgs();
    return orgs.filter((org) => canSeeOrg(caller, org.orgId));
  }

  /**
   * Throws unless the actor may change the organisation's configuration and read its history.
   * Doors call it too when they must refuse a caller before reading the request body.
   */
  authorizeAdmin(actor: Actor | null, orgId: string, action: AdminAction = 'change'): Actor {
    const caller = this.authorizeRead(actor, orgId);
    if (isPublishable(caller)) throw new WrongKeyKindError(publishableNeverWrites);
    if (!canWrite(caller)) throw adviserRefused(action);
    return caller;
  }

  /**
   * Mints a single-use ticket for a secret key to open an EventSource stream of its organisation
   * (auth/stream-tickets.ts); a publishable key needs none (it may sit in the URL itself).
   */
  async createStreamTicket(actor: Actor | null, orgId: string): Promise<{ ticket: string; expiresAt: Date }> {
    const caller = this.authorizeRead(actor, orgId);
    if (caller.kind !== 'apiKey') throw new ForbiddenError('stream tickets are for API keys');
    if (isPublishable(caller))
      throw new WrongKeyKindError('a publishable (pk_) key needs no ticket: pass it as ?key= itself');
    if (!(await this.store.getConfig(orgId))) throw new OrgNotFoundError(orgId);
    return mintStreamTicket(this.store, caller, orgId, this.clock());
  }

  private authorizeRead(actor: Actor | null, orgId: string): Actor {
    const caller = this.authenticated(actor);
    if (!canSeeOrg(caller, orgId)) throw new OrgNotFoundError(orgId);
    return caller;
  }

  private authenticated(actor: Actor | null): Actor {
    if (!actor) throw new UnauthenticatedError();
    return actor;
  }
}
