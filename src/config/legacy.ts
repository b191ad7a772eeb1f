// The legacy flat JSON of the REST API <-> the nested model, through one table read both ways.
import { getPath, setPath } from './catalogue.ts';
import {
  type OrgConfigPatch,
  type OrgConfigSettings,
  orgConfigPatchSchema,
  settingsLeaves,
} from './model.ts';
import { check, type Problem, type ProblemPath } from './problems.ts';
import { ProblemCode } from './rules.ts';

export type LegacyConfig = Record<string, unknown>;

/** legacy key -> path in the nested model, in the order of the catalogue. */
export const legacyKeyPaths: ReadonlyMap<string, readonly string[]> = new Map(
  settingsLeaves.map(({ setting, path }) => [setting.legacyKey, path]),
);

export function toLegacy(settings: OrgConfigSettings): LegacyConfig {
  return Object.fromEntries([...legacyKeyPaths].map(([key, path]) => [key, getPath(settings, path)]));
}

/** The legacy keys and paths under each top-level field, in catalogue order (each field's leaves are together). */
const leavesByField: [string, [string, readonly string[]][]][] = [];
for (const [key, path] of legacyKeyPaths) {
  const last = leavesByField.at(-1);
  if (last && last[0] === path[0]) last[1].push([key, path]);
  else leavesByField.push([path[0]!, [[key, path]]]);
}

/** The members of each top-level group's part of the legacy JSON, by group: groups are never mutated. */
const jsonMembers = new WeakMap<object, string>();

/**
 * JSON.stringify(toLegacy(settings)), the same text, made of each top-level group's members: a
 * group shared with an earlier version (a patch copies only the groups it changes) is not serialised again.
 */
export function legacyJson(settings: OrgConfigSettings): string {
  const parts: string[] = [];
  for (const [field, leaves] of leavesByField) {
    const group = (settings as unknown as Record<string, unknown>)[field];
    const cacheable = typeof group === 'object' && group !== null;
    let members = cacheable ? jsonMembers.get(group) : undefined;
    if (members === undefined) {
      members = JSON.stringify(
        Object.fromEntries(leaves.map(([key, path]) => [key, getPath(settings, path)])),
      ).slice(1, -1);
      if (cacheable) jsonMembers.set(group, members);
    }
    if (members !== '') parts.push(members);
  }
  return `{${parts.join(',')}}`;
}

/**
 * A nested patch from a (possibly partial) legacy object. Keys that are not settings are problems;
 * values are passed on as they are, for the model's rules to judge.
 */
export function fromLegacy(body: LegacyConfig): { patch: OrgConfigPatch; unknownKeys: Problem[] } {
  const patch: Record<string, unknown> = {};
  const unknownKeys: Problem[] = [];
  for (const [key, value] of Object.entries(body)) {
    const path = legacyKeyPaths.get(key);
    if (path) setPath(patch, path, value);
    else
      unknownKeys.push({
        path: [key],
        message: `unknown setting "${key}"`,
        code: ProblemCode.UNKNOWN_SETTING,
      });
  }
  return { patch: patch as OrgConfigPatch, unknownKeys };
}

/**
 * A nested patch from a legacy body, or every problem of it at once: unknown keys and the broken
 * rules of the known ones. The service validates the patch again; this only lets the REST and CLI
 * doors report unknown keys together with the rest.
 */
export function parseLegacyPatch(
  body: LegacyConfig,
): { ok: true; patch: OrgConfigPatch } | { ok: false; problems: Problem[] } {
  const { patch, unknownKeys } = fromLegacy(body);
  if (unknownKeys.length === 0) return { ok: true, patch };
  const known = check(orgConfigPatchSchema, patch);
  return { ok: false, problems: [...unknownKeys, ...(known.ok ? [] : known.problems)] };
}

/** The legacy key path of a problem found in the nested model: ["sla","openedConversations","range","lowerBound"] -> ["openedConversationsSlaRangeLowerBound"]. */
export function toLegacyPath(path: ProblemPath): ProblemPath {
  for (const [key, settingPath] of legacyKeyPaths) {
    if (settingPath.every((part, index) => path[index] === part))
      return [key, ...path.slice(settingPath.length)];
  }
  return path;
}
