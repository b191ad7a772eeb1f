// Applying a partial patch to settings, and the difference between two sets of settings.
import { getPath, setPath } from './catalogue.ts';
import { settingsLeaves, type OrgConfigPatch, type OrgConfigSettings } from './model.ts';

/** A new settings object: patched settings replaced (lists whole), everything else kept. */
export function applyPatch(settings: OrgConfigSettings, patch: OrgConfigPatch): OrgConfigSettings {
  const result = structuredClone(settings) as unknown as Record<string, unknown>;
  for (const { path } of settingsLeaves) {
    const value = getPath(patch, path);
    if (value !== undefined) setPath(result, path, structuredClone(value));
  }
  return result as unknown as OrgConfigSettings;
}

export interface SettingChange {
  /** Dotted path in the nested model, e.g. "sla.openedConversations.range.lowerBound". */
  readonly path: string;
  readonly legacyKey: string;
  readonly before: unknown;
  readonly after: unknown;
}

/** The settings whose values differ, in catalogue order. */
export function diffSettings(before: OrgConfigSettings, after: OrgConfigSettings): SettingChange[] {
  return settingsLeaves.flatMap(({ path, setting }) => {
    const old = getPath(before, path);
    const now = getPath(after, path);
    return JSON.stringify(old) === JSON.stringify(now) ? [] : [{ path: path.join('.'), legacyKey: setting.legacyKey, before: old, after: now }];
  });
}
