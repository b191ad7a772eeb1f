// The setting and group paths a follower (a subscription, a webhook) may name, and whether a revision touches them.
import { settingsDerivedLeaves, settingsLeaves } from './model.ts';
import type { Problem } from './problems.ts';
import type { Revision } from './revision.ts';
import { ProblemCode } from './rules.ts';

/** Setting paths ("branding.color") and group paths ("sla", "sla.openedConversations") a follower may name. */
export const followablePaths: ReadonlySet<string> = new Set([
  ...settingsLeaves.flatMap(({ path }) => path.map((_, index) => path.slice(0, index + 1).join('.'))),
  ...settingsDerivedLeaves.map(({ path }) => path.join('.')),
]);

/** A derived setting (the legacy workingHours) is followed through the settings it derives from. */
const derivedSources = new Map(
  settingsDerivedLeaves.map(({ path, derived }) => [path.join('.'), derived.derivedFrom]),
);

/** Whether the revision changed one of `fields` or a setting inside one of those groups. */
export function touches(revision: Pick<Revision, 'changes'>, fields: readonly string[]): boolean {
  const followed = fields.flatMap((field) => derivedSources.get(field) ?? [field]);
  return revision.changes.some((change) =>
    followed.some((field) => change.path === field || change.path.startsWith(`${field}.`)),
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
