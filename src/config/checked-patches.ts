// The patch check, done once per patch: the GraphQL input is checked by the schema's own validation
// (plugin-validation) and then handed to the service, which would check the same object again.
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

type StandardPatchSchema = (typeof orgConfigPatchSchema)['~standard'];

/** The patch schema for the GraphQL input's validation: the same checks, its valid outputs remembered for checkPatch. */
export const rememberingPatchSchema: { readonly '~standard': StandardPatchSchema } = {
  '~standard': {
    ...orgConfigPatchSchema['~standard'],
    validate(value) {
      const result = orgConfigPatchSchema['~standard'].validate(value);
      if (result instanceof Promise) return result; // the patch schema is synchronous; never the case
      if (!result.issues) remember(result.value);
      return result;
    },
  },
};
