// Applying a partial patch to settings, and the difference between two sets of settings.
import { getPath } from './catalogue.ts';
import {
  type OrgConfigPatch,
  type OrgConfigSettings,
  settingsDerivedLeaves,
  settingsLeaves,
} from './model.ts';

type Group = Record<string, unknown>;

/**
 * A new settings object: patched settings replaced (lists whole), everything else kept. Settings
 * are never mutated, so only the groups on a patched path are copied; the rest is shared. A derived
 * setting in the patch (the legacy workingHours) is written last, into the settings it derives
 * from as patched, at `nowMs`.
 */
export function applyPatch(
  settings: OrgConfigSettings,
  patch: OrgConfigPatch,
  nowMs: number,
): OrgConfigSettings {
  const result: Group = { ...(settings as unknown as Group) };
  const copied = new Set<Group>([result]);
  for (const { path } of settingsLeaves) {
    const value = getPath(patch, path);
    if (value === undefined) continue;
    let group = result;
    for (const key of path.slice(0, -1)) {
      let child = group[key] as Group;
      if (!copied.has(child)) {
        child = { ...child };
        copied.add(child);
        group[key] = child;
      }
      group = child;
    }
    group[path[path.length - 1]!] = structuredClone(value);
  }
  let patched = result as unknown as OrgConfigSettings;
  for (const { path, derived } of settingsDerivedLeaves) {
    const value = getPath(patch, path);
    if (value !== undefined) patched = derived.write(patched, structuredClone(value), nowMs);
  }
  return patched;
}

export interface SettingChange {
  /** Dotted path in the nested model, e.g. "sla.openedConversations.range.lowerBound". */
  readonly path: string;
  readonly legacyKey: string;
  readonly before: unknown;
  readonly after: unknown;
}

/** Whether two setting values are the same JSON; most are the same value or two strings, compared without serialising. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Each setting's dotted path, joined once. */
const dottedPaths = settingsLeaves.map(({ path }) => path.join('.'));

/** The settings whose values differ, in catalogue order. */
export function diffSettings(before: OrgConfigSettings, after: OrgConfigSettings): SettingChange[] {
  const changes: SettingChange[] = [];
  settingsLeaves.forEach(({ path, setting }, index) => {
    const old = getPath(before, path);
    const now = getPath(after, path);
    if (!sameJson(old, now))
      changes.push({ path: dottedPaths[index]!, legacyKey: setting.legacyKey, before: old, after: now });
  });
  return changes;
}
