// The whole-settings check of a write, without checking again the groups it passed already: a patch
// touches a group or two, and the others are the very objects an earlier check produced.
import type { z } from 'zod';
import { type OrgConfigSettings, orgConfigCatalogue, orgConfigSchema } from './model.ts';
import { check, type IssueLike, type Problem, toProblems } from './problems.ts';

/**
 * Top-level values (groups, lists) this check produced. Settings are never mutated and each group's
 * rules read only that group, so such a value passes again, unchanged, and is taken as it is.
 */
const passed = new WeakSet<object>();

/** The root's fields with their schemas, the very ones orgConfigSchema checks them with. */
const fields = Object.entries((orgConfigSchema as unknown as z.ZodObject).shape) as [string, z.ZodType][];

/** check(orgConfigSchema, input), with the same value and the same problems in the same order. */
export function checkSettings(
  input: unknown,
): { ok: true; value: OrgConfigSettings } | { ok: false; problems: Problem[] } {
  // A rule across groups would need the whole: so would anything but a plain object.
  if (orgConfigCatalogue.check || input === null || typeof input !== 'object' || Array.isArray(input))
    return check(orgConfigSchema, input);
  const given = input as Record<string, unknown>;
  const value: Record<string, unknown> = {};
  const issues: IssueLike[] = [];
  for (const [name, schema] of fields) {
    const field = given[name];
    if (typeof field === 'object' && field !== null && passed.has(field)) {
      value[name] = field;
      continue;
    }
    const result = schema.safeParse(field);
    if (result.success) value[name] = result.data;
    else for (const issue of result.error.issues) issues.push({ ...issue, path: [name, ...issue.path] });
  }
  if (issues.length > 0) return { ok: false, problems: toProblems(issues, input) };
  for (const field of Object.values(value))
    if (typeof field === 'object' && field !== null) passed.add(field);
  return { ok: true, value: value as OrgConfigSettings };
}
