// The patch check, done once per patch: a patch already checked (the same object) is not checked twice.
import { type OrgConfigPatch, orgConfigPatchSchema } from './model.ts';
import { check, type Problem } from './problems.ts';

/** Values the patch schema has produced. The schema transforms nothing, so checking one again gives the same value. */
const checked = new WeakSet<object>();

function remember(value: unknown): void {
  if (typeof value === 'object' && value !== null) checked.add(value);
}

/** check(orgConfigPatchSchema, input), answered at once for a patch that schema produced already. */
export function checkPatch(
  input: unknown,
): { ok: true; value: OrgConfigPatch } | { ok: false; problems: Problem[] } {
  if (typeof input === 'object' && input !== null && checked.has(input))
    return { ok: true, value: input as OrgConfigPatch };
  const result = check(orgConfigPatchSchema, input);
  if (result.ok) remember(result.value);
  return result;
}
