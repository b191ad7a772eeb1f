// The one way in: every door reads, changes, audits and follows configurations through this service.
import { z } from 'zod';
import { type Actor, canSeeOrg, canWrite } from '../auth/actor.ts';
import type { ChangeEvents, RevisionStream } from '../events/change-feed.ts';
import type { ConfigStore, OrgSummary } from '../store/config-store.ts';
import { getPath } from './catalogue.ts';
import { checkPatch } from './checked-patches.ts';
import { checkSettings } from './checked-settings.ts';
import {
  ConfigValidationError,
  ForbiddenError,
  OrgNotFoundError,
  UnauthenticatedError,
  VersionConflictError,
  VersionNotFoundError,
} from './errors.ts';
import {
  defaultSettings,
  type OrgConfig,
  type OrgConfigSettings,
  orgConfigSchema,
  settingsLeaves,
} from './model.ts';
import { applyPatch, diffSettings, type SettingChange } from './patch.ts';
import { check, type Problem } from './problems.ts';
import { configAt, type Door, type Revision, type RevisionActor, type RevisionMeta } from './revision.ts';
import { ProblemCode } from './rules.ts';

export interface UpdateRequest {
  readonly orgId: string;
  /** A partial change in the nested model; validated here whatever door it came from. */
  readonly patch: unknown;
  /** When given, the update applies only if the config is still at this version. */
  readonly expectedVersion?: number | null;
  readonly door: Door;
  /** Validate and report the would-be changes; write and publish nothing. */
  readonly dryRun?: boolean;
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

/** Setting paths ("branding.color") and group paths ("sla", "sla.openedConversations") a subscriber may name. */
const followablePaths = new Set(
  settingsLeaves.flatMap(({ path }) => path.map((_, index) => path.slice(0, index + 1).join('.'))),
);

function touches(revision: Revision, fields: readonly string[]): boolean {
  return revision.changes.some((change) =>
    fields.some((field) => change.path === field || change.path.startsWith(`${field}.`)),
  );
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

function revisionActor(actor: Actor): RevisionActor {
  return actor.kind === 'apiKey'
    ? { keyId: actor.keyId, role: actor.role }
    : { keyId: null, role: 'operator' };
}

export class ConfigService {
  constructor(
    private readonly store: ConfigStore,
    /** Told of each local commit so subscribers hear of it at once; absent where nobody subscribes (the CLI). */
    private readonly events?: ChangeEvents,
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
    if (!patch.ok) throw new ConfigValidationError(patch.problems);
    return this.change(caller, request, (settings) => applyPatch(settings, patch.value), patch.value);
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
    this.authorizeAdmin(actor, orgId);
    if (!(await this.store.getConfig(orgId))) throw new OrgNotFoundError(orgId);
    const first = Math.min(Math.max(page.first, 0), maxHistoryPage);
    const revisions = await this.store.listRevisions(orgId, {
      beforeVersion: page.beforeVersion,
      limit: first + 1,
    });
    return { revisions: revisions.slice(0, first), hasMore: revisions.length > first };
  }

  /** The whole configuration as it was at `version`. */
  async configAt(actor: Actor | null, orgId: string, version: number): Promise<OrgConfig> {
    this.authorizeRead(actor, orgId);
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
    this.authorizeRead(actor, orgId);
    const unknown: Problem[] = (options.fields ?? []).flatMap((field, index) =>
      followablePaths.has(field)
        ? []
        : [
            {
              path: ['fields', index],
              message: `"${field}" is not a setting or group path of OrgConfig`,
              code: ProblemCode.UNKNOWN_SETTING,
            },
          ],
    );
    if (unknown.length > 0) throw new ConfigValidationError(unknown);
    const current = await this.store.getConfig(orgId);
    if (!current) throw new OrgNotFoundError(orgId);
    const { sinceVersion } = options;
    if (sinceVersion != null && (sinceVersion < 0 || sinceVersion > current.version)) {
      const message = `must be between 0 and the current version, ${current.version}`;
      throw new ConfigValidationError([{ path: ['sinceVersion'], message, code: ProblemCode.OUT_OF_RANGE }]);
    }
    const fields = options.fields?.length ? options.fields : null;
    // Without sinceVersion, follow from the version current now, so that nothing committed between
    // this call and the first read of the stream is missed.
    return this.events.subscribe(
      orgId,
      sinceVersion ?? current.version,
      fields ? (revision) => touches(revision, fields) : undefined,
    );
  }

  /** Throws UnauthenticatedError when the actor's key has been revoked since it was checked. */
  async assertStillValid(actor: Actor | null): Promise<void> {
    if (actor?.kind === 'apiKey' && !(await this.store.findApiKeyByHash(actor.keyHash)))
      throw new UnauthenticatedError('the API key has been revoked');
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
  authorizeAdmin(actor: Actor | null, orgId: string): Actor {
    const caller = this.authorizeRead(actor, orgId);
    if (!canWrite(caller)) throw new ForbiddenError();
    return caller;
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
