// What a publishable (widget) key may read, derived from the catalogue's `public` flag: pure, no I/O.
import { z } from 'zod';
import { type GroupNode, getPath, setPath } from './catalogue.ts';
import type { LegacyConfig } from './legacy.ts';
import { type OrgConfigSettings, orgConfigCatalogue, settingsLeaves } from './model.ts';
import type { SettingChange } from './patch.ts';

/** Dotted paths of the public settings, in catalogue order. */
export const publicSettingPaths: readonly string[] = settingsLeaves
  .filter(({ setting }) => setting.public)
  .map(({ path }) => path.join('.'));

/** Dotted paths of the settings a publishable key may not read, in catalogue order (for the README). */
export const secretSettingPaths: readonly string[] = settingsLeaves
  .filter(({ setting }) => !setting.public)
  .map(({ path }) => path.join('.'));

const publicPaths = new Set(publicSettingPaths);

/** Group paths ("branding", "sla.openedConversations") holding at least one public setting. */
const groupsWithPublic = new Set(
  settingsLeaves
    .filter(({ setting }) => setting.public)
    .flatMap(({ path }) => path.slice(0, -1).map((_, index) => path.slice(0, index + 1).join('.'))),
);

/** Whether a setting path is public, or a group path holds anything public. */
export function isReadableByWidget(path: string): boolean {
  return publicPaths.has(path) || groupsWithPublic.has(path);
}

/** Whether the setting at this dotted path is public. */
export function isPublicSetting(path: string): boolean {
  return publicPaths.has(path);
}

/** The top-level groups of the catalogue, as `--groups` names them (and settings of their own, e.g. workingHours). */
export const topLevelGroups: readonly string[] = Object.keys(orgConfigCatalogue.fields);

/** Only the public settings, nested as in the model; groups without a public setting are left out. */
export function publicSettings(settings: OrgConfigSettings): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { path, setting } of settingsLeaves)
    if (setting.public) setPath(out, path, getPath(settings, path));
  return out;
}

/** The public settings as legacy flat JSON (the REST shape), in catalogue order. */
export function publicLegacy(settings: OrgConfigSettings): LegacyConfig {
  const out: LegacyConfig = {};
  for (const { path, setting } of settingsLeaves)
    if (setting.public) out[setting.legacyKey] = getPath(settings, path);
  return out;
}

/** The changes of public settings only. */
export function publicChanges(changes: readonly SettingChange[]): SettingChange[] {
  return changes.filter((change) => publicPaths.has(change.path));
}

/** Dotted paths of the settings a (checked) patch names, in catalogue order. */
export function patchedPaths(patch: unknown): string[] {
  return settingsLeaves
    .filter(({ path }) => getPath(patch, path) !== undefined)
    .map(({ path }) => path.join('.'));
}

/**
 * The setting paths outside the top-level groups granted, in their order; empty when each is inside
 * one. `groups` null grants every group.
 */
export function outsideGroups(paths: readonly string[], groups: readonly string[] | null): string[] {
  if (groups === null) return [];
  return paths.filter((path) => !groups.includes(path.split('.')[0]!));
}

/** The legacy keys of the public settings, in catalogue order. */
export const publicLegacyKeys: readonly string[] = settingsLeaves
  .filter(({ setting }) => setting.public)
  .map(({ setting }) => setting.legacyKey);

/** The zod schema of publicSettings' answer: the public settings nested as in the model, every one present. */
function publicSchemaOf(group: GroupNode): z.ZodObject | null {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, node] of Object.entries(group.fields)) {
    if (node.node === 'setting') {
      if (node.public) shape[name] = node.schema;
    } else {
      const inner = publicSchemaOf(node);
      if (inner) shape[name] = inner;
    }
  }
  return Object.keys(shape).length > 0 ? z.strictObject(shape) : null;
}

export const publicSettingsSchema = publicSchemaOf(orgConfigCatalogue)!;
