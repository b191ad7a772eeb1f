// Finds the breaking changes between two printed schemas that the accepted-breaks file does not name.
import { readFileSync } from 'node:fs';
import { CriticalityLevel, diff } from '@graphql-inspector/core';
import { buildSchema } from 'graphql';

/** One accepted break: the change as @graphql-inspector words it, and why clients may bear it. */
export interface AcceptedBreak {
  readonly change: string;
  readonly reason: string;
}

export interface Break {
  readonly change: string;
  readonly path: string | undefined;
}

export function readAcceptedBreaks(file: string): AcceptedBreak[] {
  const accepted: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (
    !Array.isArray(accepted) ||
    !accepted.every((entry) => typeof entry?.change === 'string' && typeof entry?.reason === 'string')
  ) {
    throw new Error(`${file} must be a JSON array of { "change": string, "reason": string }`);
  }
  return accepted;
}

export async function unacceptedBreaks(
  before: string,
  after: string,
  accepted: readonly AcceptedBreak[],
): Promise<Break[]> {
  const changes = await diff(buildSchema(before), buildSchema(after));
  const named = new Set(accepted.map((entry) => entry.change));
  return changes
    .filter((change) => change.criticality.level === CriticalityLevel.Breaking && !named.has(change.message))
    .map((change) => ({ change: change.message, path: change.path }));
}
