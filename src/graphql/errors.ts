// The typed error results that mutations list in their result unions.
import { ConfigValidationError, OrgNotFoundError, VersionConflictError } from '../config/errors.ts';
import type { Problem } from '../config/problems.ts';
import { ProblemCode, problemCodeDescriptions } from '../config/rules.ts';
import { builder } from './builder.ts';

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'An expected failure of a mutation.',
  fields: (t) => ({ message: t.exposeString('message', { description: 'What went wrong, for people.' }) }),
});

export const ProblemCodeEnum = builder.enumType('ProblemCode', {
  description: 'Stable codes of the problems a configuration can have; the REST API uses the same codes.',
  values: Object.fromEntries(
    Object.values(ProblemCode).map((code) => [
      code,
      { value: code, description: problemCodeDescriptions[code] },
    ]),
  ),
});

const ProblemRef = builder.objectRef<Problem>('Problem').implement({
  description: 'One problem of a rejected change.',
  fields: (t) => ({
    path: t.stringList({
      description:
        'Path of the setting in OrgConfig, e.g. ["sla", "openedConversations", "range", "lowerBound"]; list indexes as numbers in text.',
      resolve: (problem) => problem.path.map(String),
    }),
    field: t.string({
      description: 'The same path, dotted: "sla.openedConversations.range.lowerBound".',
      resolve: (problem) => problem.path.join('.'),
    }),
    message: t.exposeString('message', { description: 'What is wrong, for people.' }),
    code: t.field({
      type: ProblemCodeEnum,
      description: 'What is wrong, for programs: stable.',
      resolve: (problem) => problem.code,
    }),
  }),
});

builder.objectType(ConfigValidationError, {
  name: 'ValidationError',
  description: 'The change breaks one or more rules; every problem is listed. Nothing was written.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    problems: t.field({
      type: [ProblemRef],
      description: 'Every problem found.',
      resolve: (error) => [...error.problems],
    }),
  }),
});

builder.objectType(VersionConflictError, {
  name: 'VersionConflict',
  description: 'The configuration changed since the version the client expected. Nothing was written.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    expectedVersion: t.exposeInt('expectedVersion', { description: 'The version the client named.' }),
    currentVersion: t.exposeInt('currentVersion', {
      description: 'Read the config at this version and retry.',
    }),
  }),
});

builder.objectType(OrgNotFoundError, {
  name: 'NotFound',
  description: 'No such organisation, or not one this API key belongs to.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ orgId: t.exposeString('orgId', { description: 'The organisation asked for.' }) }),
});
