// The JSON text of settings, made of each top-level value's text, serialised once per value object:
// settings are never mutated and a patch copies only the groups it changes, so a new version (whose
// revision stores its whole settings) serialises only those.
import type { OrgConfigSettings } from './model.ts';

const texts = new WeakMap<object, string>();

/** JSON.stringify(settings), the same text. */
export function settingsJson(settings: OrgConfigSettings): string {
  const members: string[] = [];
  for (const [field, value] of Object.entries(settings)) {
    if (typeof value !== 'object' || value === null) {
      // Left out as JSON.stringify leaves it out (undefined, functions); primitives are cheap.
      const text = JSON.stringify(value) as string | undefined;
      if (text !== undefined) members.push(`${JSON.stringify(field)}:${text}`);
      continue;
    }
    let text = texts.get(value);
    if (text === undefined) {
      text = JSON.stringify(value);
      texts.set(value, text);
    }
    members.push(`${JSON.stringify(field)}:${text}`);
  }
  return `{${members.join(',')}}`;
}
