// The OpenAPI 3.1 description of the REST API; the settings' rules are the published JSON Schema.
import { ProblemCode } from '../config/rules.ts';
import { maxHistoryPage } from '../config/service.ts';
import { configSchemaPath } from './config-schema.ts';
import { bodyLimitBytes } from './limits.ts';

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const etagHeader = {
  ETag: {
    description: 'The version of the configuration, e.g. "v3"; send it back in If-None-Match or If-Match.',
    schema: { type: 'string' },
  },
};

const configResponse = (description: string) => ({
  description,
  headers: etagHeader,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/OrgConfig' } } },
});

const methodNotAllowed = problem('Another method than those of this path; the Allow header lists them.');
const unexpected = problem('Anything unexpected: "Unexpected error." here, the cause in the log.');
const rateLimited = {
  ...problem('Over the rate limit of the key, or of the address after unknown keys; see Retry-After.'),
  headers: { 'Retry-After': { schema: { type: 'integer' } } },
};

const readOperation = (operationId: string, summary: string) => ({
  operationId,
  summary,
  parameters: [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
  responses: {
    200: configResponse('The whole configuration as one flat object.'),
    304: { description: 'Unchanged since the ETag in If-None-Match.', headers: etagHeader },
    401: problem('No API key, or an unknown one.'),
    404: problem('No such organisation for this key.'),
    405: methodNotAllowed,
    429: rateLimited,
    500: unexpected,
  },
});

const writeOperation = (operationId: string, summary: string, mediaType: string) => ({
  operationId,
  summary,
  description:
    'Keys present are updated, keys absent stay as they are; lists are replaced whole. Admin keys only. A refused body writes nothing.',
  parameters: [
    {
      name: 'If-Match',
      in: 'header',
      required: false,
      description: 'Apply only if the configuration is still at this ETag; otherwise 412.',
      schema: { type: 'string' },
    },
  ],
  requestBody: {
    required: true,
    content: { [mediaType]: { schema: { $ref: '#/components/schemas/OrgConfigPatch' } } },
  },
  responses: {
    200: configResponse('The whole configuration as committed.'),
    400: problem('The body is empty, not JSON, or not a JSON object.'),
    401: problem('No API key, or an unknown one.'),
    403: problem('The key is an adviser key: it may read, not write.'),
    404: problem('No such organisation for this key.'),
    405: methodNotAllowed,
    412: problem('If-Match no longer names the current version, or If-None-Match does.'),
    413: problem(`The body is over ${bodyLimitBytes} bytes.`),
    415: problem(`The content type is not ${mediaType}.`),
    422: problem(
      `The body breaks rules: every problem is listed, with a JSON pointer to its key and a stable code. The rules of each key are the JSON Schema ${configSchemaPath}, whose description lists the rules across settings it cannot state.`,
    ),
    429: rateLimited,
    500: unexpected,
  },
});

/** GET and HEAD of the history. */
const historyOperation = (operationId: string) => ({
  operationId,
  summary: 'The changes of the configuration, newest first (admin key)',
  parameters: [
    {
      name: 'limit',
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 0, maximum: maxHistoryPage, default: 20 },
    },
    {
      name: 'before',
      in: 'query',
      required: false,
      description: 'Only versions below this one: nextBefore of the previous page.',
      schema: { type: 'integer' },
    },
  ],
  responses: {
    200: {
      description: 'A page of revisions.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/History' } } },
    },
    400: problem('limit or before is not a whole number.'),
    401: problem('No API key, or an unknown one.'),
    403: problem('The key is an adviser key.'),
    404: problem('No such organisation for this key.'),
    405: methodNotAllowed,
    429: rateLimited,
    500: unexpected,
  },
});

/** GET and HEAD of a document the gateway publishes (no key needed). */
const documentOperation = (operationId: string, summary: string, mediaType: string) => ({
  operationId,
  summary,
  security: [],
  responses: {
    200: { description: summary, content: { [mediaType]: { schema: { type: 'object' } } } },
    405: methodNotAllowed,
    500: unexpected,
  },
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Org configuration API',
    version: '1.0.0',
    description:
      'The documented REST API of the organisation configuration, served by the org-config gateway beside GraphQL.',
  },
  security: [{ apiKey: [] }],
  paths: {
    '/api/orgs/{orgId}/config': {
      parameters: [{ name: 'orgId', in: 'path', required: true, schema: { type: 'string' } }],
      get: readOperation('getOrgConfig', 'Read the configuration (adviser or admin key)'),
      head: readOperation('headOrgConfig', 'The headers of GET (ETag), without the body'),
      put: writeOperation('putOrgConfig', 'Update the configuration', 'application/json'),
      post: writeOperation('postOrgConfig', 'Update the configuration (same as PUT)', 'application/json'),
      patch: writeOperation(
        'patchOrgConfig',
        'Update the configuration with a JSON merge patch (RFC 7396)',
        'application/merge-patch+json',
      ),
    },
    '/api/orgs/{orgId}/config/history': {
      parameters: [{ name: 'orgId', in: 'path', required: true, schema: { type: 'string' } }],
      get: historyOperation('getOrgConfigHistory'),
      head: historyOperation('headOrgConfigHistory'),
    },
    '/api/openapi.json': {
      get: documentOperation('getOpenApiDocument', 'This OpenAPI document', 'application/json'),
      head: documentOperation(
        'headOpenApiDocument',
        'The headers of this OpenAPI document',
        'application/json',
      ),
    },
    [configSchemaPath]: {
      get: documentOperation(
        'getConfigSchema',
        'The JSON Schema (2020-12) of the configuration: the rules of every setting',
        'application/schema+json',
      ),
      head: documentOperation(
        'headConfigSchema',
        'The headers of the JSON Schema of the configuration',
        'application/schema+json',
      ),
    },
  },
  components: {
    securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
    schemas: {
      // The published JSON Schema, by reference (resolved against this document's URL): one source of the rules.
      OrgConfig: { $ref: configSchemaPath },
      OrgConfigPatch: { $ref: `${configSchemaPath}#/$defs/OrgConfigPatch` },
      History: {
        type: 'object',
        required: ['revisions', 'nextBefore'],
        properties: {
          nextBefore: {
            type: ['integer', 'null'],
            description: 'Pass as before for the next page; null on the last page.',
          },
          revisions: {
            type: 'array',
            items: {
              type: 'object',
              required: ['version', 'changedAt', 'actor', 'door', 'revertedToVersion', 'changes'],
              properties: {
                version: { type: 'integer' },
                changedAt: { type: 'string', format: 'date-time' },
                actor: {
                  type: 'object',
                  required: ['keyId', 'role'],
                  properties: {
                    keyId: { type: ['string', 'null'] },
                    role: { type: 'string', enum: ['admin', 'adviser', 'operator'] },
                  },
                },
                door: { type: 'string', enum: ['graphql', 'rest', 'cli', 'seed'] },
                revertedToVersion: { type: ['integer', 'null'] },
                changes: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['key', 'path', 'before', 'after'],
                    properties: { key: { type: 'string' }, path: { type: 'string' }, before: {}, after: {} },
                  },
                },
              },
            },
          },
        },
      },
      Problem: {
        type: 'object',
        description: 'RFC 9457 problem details.',
        required: ['type', 'title', 'status', 'code', 'detail'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          code: {
            type: 'string',
            description:
              'Stable code of the failure, e.g. VALIDATION_FAILED, UNAUTHENTICATED, VERSION_MISMATCH.',
          },
          detail: { type: 'string' },
          problems: {
            type: 'array',
            items: {
              type: 'object',
              required: ['pointer', 'message', 'code'],
              properties: {
                pointer: { type: 'string', description: 'JSON pointer to the key, e.g. /workingHours/1.' },
                message: { type: 'string' },
                code: { type: 'string', enum: Object.values(ProblemCode) },
              },
            },
          },
        },
      },
    },
  },
} as const;
