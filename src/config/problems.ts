// Turns zod issues into the problems clients see: a field path, a message and a stable code.
import type { z } from 'zod';
import { getPath } from './catalogue.ts';
import { ProblemCode } from './rules.ts';

export type ProblemPath = readonly (string | number)[];

export interface Problem {
  /** Where the problem is, in the nested model (e.g. ["sla", "openedConversations", "range", "lowerBound"]). */
  readonly path: ProblemPath;
  readonly message: string;
  readonly code: ProblemCode;
}

/** The part of a zod issue we read; Standard Schema issues from plugin-validation have it too. */
export interface IssueLike {
  readonly code?: string;
  readonly path?: readonly PropertyKey[] | readonly { key: PropertyKey }[];
  readonly message: string;
  readonly origin?: string;
  readonly keys?: readonly string[];
  readonly params?: { code?: ProblemCode };
}

function normalisePath(path: IssueLike['path']): (string | number)[] {
  return (path ?? []).map((part) => {
    const key = typeof part === 'object' && part !== null ? part.key : part;
    return typeof key === 'number' ? key : String(key);
  });
}

function codeOf(issue: IssueLike, valueAtPath: unknown): ProblemCode {
  switch (issue.code) {
    case 'custom':
      return issue.params?.code ?? ProblemCode.INVALID_TYPE;
    case 'invalid_type':
      return valueAtPath === null ? ProblemCode.NOT_NULLABLE : ProblemCode.INVALID_TYPE;
    case 'too_big':
    case 'too_small':
      if (issue.origin === 'string') return ProblemCode.TOO_LONG;
      if (issue.origin === 'array') return ProblemCode.TOO_MANY_ITEMS;
      return ProblemCode.OUT_OF_RANGE;
    case 'invalid_value':
      return ProblemCode.INVALID_ENUM_VALUE;
    default:
      return ProblemCode.INVALID_TYPE;
  }
}

/** Problems of `input` as reported by its schema, one per issue (one per key for unknown keys). */
export function toProblems(issues: readonly IssueLike[], input: unknown): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const path = normalisePath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return (issue.keys ?? []).map((key) => ({
        path: [...path, key],
        message: `unknown setting "${key}"`,
        code: ProblemCode.UNKNOWN_SETTING,
      }));
    }
    const code = codeOf(issue, getPath(input, path));
    const message =
      code === ProblemCode.NOT_NULLABLE
        ? 'must not be null (leave it out to keep the current value)'
        : issue.message;
    return [{ path, message, code }];
  });
}

/** Validates `input` with `schema`, answering the value or every problem found. */
export function check<T>(
  schema: z.ZodType<T>,
  input: unknown,
): { ok: true; value: T } | { ok: false; problems: Problem[] } {
  const result = schema.safeParse(input);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, problems: toProblems(result.error.issues, input) };
}
