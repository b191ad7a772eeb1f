// The setting and group paths a follower (a subscription, a webhook) may name, and whether a revision touches them.
import { settingsLeaves } from './model.ts';
import type { Problem } from './problems.ts';
import type { Revision } from './revision.ts';
import { ProblemCode } from './rules.ts';

/** Setting paths ("branding.color") and group paths ("sla", "sla.openedConversations") a follower may name. */
export const followablePaths: ReadonlySet<string> = new Set(
  settingsLeaves.flatMap(({ path }) => path.map((_, index) => path.slice(0, index + 1).join('.'))),
);

/** Whether the revision changed one of `fields` or a setting inside one of those groups. */
export function touches(revision: Pick<Revision, 'changes'>, fields: readonly string[]): boolean {
  return revision.changes.some((change) =>
    fields.some((field) => change.path === field || change.path.startsWith(`${field}.`)),
  );
}

/** A problem for each name in `fields` that is not a setting or group path (reported under `at`). */
export function unknownFieldProblems(fields: readonly string[], at: string): Problem[] {
  return fields.flatMap((field, index) =>
    followablePaths.has(field)
      ? []
      : [
          {
            path: [at, index],
            message: `"${field}" is not a setting or group path of OrgConfig`,
            code: ProblemCode.UNKNOWN_SETTING,
          },
        ],
  );
}
