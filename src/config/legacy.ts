// The legacy flat JSON of the REST API <-> the nested model, through one table read both ways.
import type { z } from 'zod';
import type { DerivedNode, SettingKind } from './catalogue.ts';
import { getPath, setPath } from './catalogue.ts';
import {
  type OrgConfigPatch,
  type OrgConfigSettings,
  orgConfigCatalogue,
  orgConfigPatchSchema,
  settingsDerivedLeaves,
  settingsLeaves,
} from './model.ts';
import { legacyWeek } from './opening-hours.ts';
import { applyPatch } from './patch.ts';
import { check, type Problem, type ProblemPath } from './problems.ts';
import { ProblemCode } from './rules.ts';

export type LegacyConfig = Record<string, unknown>;

/** Every legacy key, stored settings and derived ones, in catalogue order (the order of the legacy JSON). */
const legacyLeaves: { key: string; path: readonly string[]; derived?: DerivedNode; description: string }[] = [
  ...settingsLeaves.map(({ setting, path }) => ({
    key: setting.legacyKey,
    path,
    description: setting.description,
  })),
  ...settingsDerivedLeaves.map(({ derived, path }) => ({
    key: derived.legacyKey,
    path,
    derived,
    description: derived.description,
  })),
].sort((a, b) => catalogueOrder(a.path) - catalogueOrder(b.path));

function catalogueOrder(path: readonly string[]): number {
  return Object.keys(orgConfigCatalogue.fields).indexOf(path[0]!);
}

/** Each legacy key with its rule and description, in the order of the legacy JSON (for published schemas). */
export const legacySettings: readonly {
  key: string;
  kind: SettingKind;
  schema: z.ZodType;
  description: string;
}[] = legacyLeaves.map(({ key, path, derived, description }) => {
  const node = derived ?? settingsLeaves.find((leaf) => leaf.path === path)!.setting;
  return { key, kind: node.kind, schema: node.schema, description };
});

/** legacy key -> path in the nested model (or patch, for derived settings), in the order of the catalogue. */
export const legacyKeyPaths: ReadonlyMap<string, readonly string[]> = new Map(
  legacyLeaves.map(({ key, path }) => [key, path]),
);

function legacyValue(settings: OrgConfigSettings, leaf: (typeof legacyLeaves)[number], nowMs: number) {
  return leaf.derived ? leaf.derived.read(settings, nowMs) : getPath(settings, leaf.path);
}

/** The legacy flat object of the settings at `nowMs` (the legacy workingHours are those of the current week). */
export function toLegacy(settings: OrgConfigSettings, nowMs: number): LegacyConfig {
  return Object.fromEntries(legacyLeaves.map((leaf) => [leaf.key, legacyValue(settings, leaf, nowMs)]));
}

/**
 * From when until when the legacy JSON of these settings stays what it is at `nowMs`: the derived
 * workingHours change with the local week (in a zone with daylight saving), never in UTC.
 */
export function legacyValidity(
  settings: OrgConfigSettings,
  nowMs: number,
): { fromMs: number; untilMs: number } {
  return legacyWeek(settings.openingHours, nowMs);
}

/** The legacy leaves under each top-level field, in catalogue order (each field's leaves are together). */
const leavesByField: [string, (typeof legacyLeaves)[number][]][] = [];
for (const leaf of legacyLeaves) {
  const last = leavesByField.at(-1);
  if (last && last[0] === leaf.path[0]) last[1].push(leaf);
  else leavesByField.push([leaf.path[0]!, [leaf]]);
}

/** The members of each top-level group's part of the legacy JSON, by group: groups are never mutated. */
const jsonMembers = new WeakMap<object, string>();

/**
 * JSON.stringify(toLegacy(settings, nowMs)), the same text, made of each top-level group's members: a
 * group shared with an earlier version (a patch copies only the groups it changes) is not serialised
 * again. Derived members are computed each time.
 */
export function legacyJson(settings: OrgConfigSettings, nowMs: number): string {
  const parts: string[] = [];
  for (const [field, leaves] of leavesByField) {
    const group = (settings as unknown as Record<string, unknown>)[field];
    const cacheable = typeof group === 'object' && group !== null && !leaves.some((leaf) => leaf.derived);
    let members = cacheable ? jsonMembers.get(group) : undefined;
    if (members === undefined) {
      members = JSON.stringify(
        Object.fromEntries(leaves.map((leaf) => [leaf.key, legacyValue(settings, leaf, nowMs)])),
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

/**
 * Whole settings from a whole legacy object, also one of the shape before opening hours (no
 * openingHours* keys): what it lacks of them is the zone UTC, its workingHours and no exceptions,
 * so an organisation that never set a zone keeps exactly its offsets. Not validated.
 */
export function settingsFromLegacy(body: LegacyConfig, nowMs: number): OrgConfigSettings {
  const { patch } = fromLegacy(body);
  const { workingHours, ...stored } = patch as Record<string, unknown>;
  const base = {
    ...stored,
    openingHours: { timeZone: 'UTC', weekly: [], exceptions: [], ...(stored.openingHours as object) },
  } as unknown as OrgConfigSettings;
  return workingHours === undefined ? base : applyPatch(base, { workingHours } as OrgConfigPatch, nowMs);
}
