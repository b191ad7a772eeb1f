// The Pothos schema builder, its plugins and scalars; types live in their own files.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import ValidationPlugin from '@pothos/plugin-validation';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { ConfigValidationError, UnauthenticatedError } from '../config/errors.ts';
import { type IssueLike, toProblems } from '../config/problems.ts';
import type { Context } from './context.ts';

/** Arguments under which the patch sits; problems are reported relative to it, as paths in OrgConfig. */
const patchArgumentPath = ['input', 'patch'];

function relativeToPatch(path: readonly (string | number)[]): readonly (string | number)[] {
  return patchArgumentPath.every((part, index) => path[index] === part)
    ? path.slice(patchArgumentPath.length)
    : path;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: { DateTime: { Input: Date; Output: Date }; JSON: { Input: unknown; Output: unknown } };
}>({
  plugins: [ErrorsPlugin, ValidationPlugin],
  defaultFieldNullability: false,
  errors: {
    // Input validation fails before the resolver runs; the typed ValidationError result needs
    // these errors too. Authentication is settled first, in validationError below.
    unsafelyHandleInputErrors: true,
  },
  validation: {
    validationError: (failure, args, context) => {
      // Validation runs before the resolver: a caller who may not make the change hears that
      // (UNAUTHENTICATED, FORBIDDEN, NotFound), not what is wrong with its input.
      const orgId = (args.input as { orgId?: unknown } | undefined)?.orgId;
      try {
        if (!context.actor) throw new UnauthenticatedError();
        if (orgId !== undefined) context.service.authorizeAdmin(context.actor, String(orgId));
      } catch (refusal) {
        return refusal as Error;
      }
      const problems = toProblems(failure.issues as readonly IssueLike[], args).map((problem) => ({
        ...problem,
        path: relativeToPatch(problem.path),
      }));
      return new ConfigValidationError(problems);
    },
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver);
builder.queryType({ description: 'Reading configurations and their history.' });
builder.mutationType({
  description: 'Changing configurations: every change is validated, versioned and audited.',
});
builder.subscriptionType({ description: 'Following configurations as they change.' });
