// The one way in: every door reads and changes configurations through this service.
import { z } from 'zod';
import { canSeeOrg, canWrite, type Actor } from '../auth/actor.ts';
import type { ConfigStore, OrgSummary } from '../store/config-store.ts';
import { ConfigValidationError, ForbiddenError, OrgNotFoundError, UnauthenticatedError, VersionConflictError } from './errors.ts';
import { defaultSettings, orgConfigPatchSchema, orgConfigSchema, type OrgConfig, type OrgConfigSettings } from './model.ts';
import { applyPatch, diffSettings } from './patch.ts';
import { check } from './problems.ts';

/** The protocol a change came through, kept with it for the audit trail. */
export type Door = 'graphql' | 'rest' | 'cli';

export interface UpdateRequest {
  readonly orgId: string;
  /** A partial change in the nested model; validated here whatever door it came from. */
  readonly patch: unknown;
  /** When given, the update applies only if the config is still at this version. */
  readonly expectedVersion?: number | null;
  readonly door: Door;
}

export const orgIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'an organisation id is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit');

export class ConfigService {
  constructor(private readonly store: ConfigStore) {}

  async get(actor: Actor | null, orgId: string): Promise<OrgConfig> {
    const caller = this.authenticated(actor);
    if (!canSeeOrg(caller, orgId)) throw new OrgNotFoundError(orgId);
    const config = await this.store.getConfig(orgId);
    if (!config) throw new OrgNotFoundError(orgId);
    return config;
  }

  /**
   * Validates the patch, then in one store transaction: checks the expected version, merges,
   * validates the whole result (rules across settings see the stored values), writes and bumps
   * the version. A patch that changes nothing writes nothing and keeps the version.
   */
  async update(actor: Actor | null, request: UpdateRequest): Promise<OrgConfig> {
    this.authorizeWrite(actor, request.orgId);
    const patch = check(orgConfigPatchSchema, request.patch);
    if (!patch.ok) throw new ConfigValidationError(patch.problems);

    const updated = await this.store.updateConfig(request.orgId, (current) => {
      const { expectedVersion } = request;
      if (expectedVersion != null && expectedVersion !== current.version) {
        throw new VersionConflictError(expectedVersion, current.version);
      }
      const merged = check(orgConfigSchema, applyPatch(current.settings, patch.value));
      if (!merged.ok) throw new ConfigValidationError(merged.problems);
      return diffSettings(current.settings, merged.value).length > 0 ? merged.value : null;
    });
    if (!updated) throw new OrgNotFoundError(request.orgId);
    return updated;
  }

  /**
   * Throws unless the actor may change the organisation's configuration. `update` calls it first;
   * a door calls it too when it must refuse an unauthorised caller before reading the request body.
   */
  authorizeWrite(actor: Actor | null, orgId: string): void {
    const caller = this.authenticated(actor);
    if (!canSeeOrg(caller, orgId)) throw new OrgNotFoundError(orgId);
    if (!canWrite(caller)) throw new ForbiddenError();
  }

  /** Creates an organisation with the documented defaults, or with the given (validated) settings. */
  async createOrg(actor: Actor | null, orgId: string, settings?: OrgConfigSettings): Promise<OrgConfig> {
    const caller = this.authenticated(actor);
    if (caller.kind !== 'operator') throw new ForbiddenError('only an operator may create organisations');
    const id = check(orgIdSchema, orgId);
    if (!id.ok) throw new ConfigValidationError(id.problems.map((problem) => ({ ...problem, path: ['orgId'] })));
    const initial = check(orgConfigSchema, settings ?? defaultSettings(orgId));
    if (!initial.ok) throw new ConfigValidationError(initial.problems);
    return this.store.createOrg(id.value, initial.value);
  }

  async listOrgs(actor: Actor | null): Promise<OrgSummary[]> {
    const caller = this.authenticated(actor);
    const orgs = await this.store.listOrgs();
    return orgs.filter((org) => canSeeOrg(caller, org.orgId));
  }

  private authenticated(actor: Actor | null): Actor {
    if (!actor) throw new UnauthenticatedError();
    return actor;
  }
}
