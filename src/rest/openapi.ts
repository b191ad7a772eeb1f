// The OpenAPI 3.1 description of the REST API; the settings' rules are the published JSON Schema.
import { z } from 'zod';
import { ProblemCode } from '../config/rules.ts';
import { maxHistoryPage } from '../config/service.ts';
import { publicLegacyKeys, publicSettingsSchema } from '../config/visibility.ts';
import { configSchemaPath } from './config-schema.ts';
import { bodyLimitBytes } from './limits.ts';

/** The JSON Schema of a nested group of settings (the widget snapshot's), as zod describes it. */
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  });
  return rest;
}

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

/** A read answers the public settings only to a publishable (widget) key. */
const readResponse = (description: string) => ({
  description,
  headers: etagHeader,
  content: {
    'application/json': {
      schema: {
        oneOf: [{ $ref: '#/components/schemas/OrgConfig' }, { $ref: '#/components/schemas/PublicOrgConfig' }],
      },
    },
  },
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
    200: readResponse(
      'The whole configuration as one flat object; to a publishable (widget) key, its public settings only.',
    ),
    304: { description: 'Unchanged since the ETag in If-None-Match.', headers: etagHeader },
    401: problem('No API key, or an unknown one; KEY_EXPIRED for a key past its expiry.'),
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
    403: problem(
      'FORBIDDEN: the key is an adviser key (it may read, not write), or limited to groups the body goes outside (the settings are named); WRONG_KEY_KIND: a publishable key.',
    ),
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
    403: problem('The key is an adviser key (FORBIDDEN) or a publishable one (WRONG_KEY_KIND).'),
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
    '/widget/{orgId}/config': {
      parameters: [
        { name: 'orgId', in: 'path', required: true, schema: { type: 'string' } },
        {
          name: 'key',
          in: 'query',
          required: true,
          description: 'A publishable key (pk_…). Any other key in a URL is refused (SECRET_KEY_IN_URL).',
          schema: { type: 'string', pattern: '^pk_' },
        },
      ],
      get: {
        operationId: 'getWidgetSnapshot',
        summary: "The organisation's public settings, for the widget and the CDN in front of it",
        security: [],
        parameters: [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
        responses: {
          200: {
            description:
              'The public settings, nested as in GraphQL; Cache-Control: public, max-age, stale-while-revalidate.',
            headers: {
              ETag: { description: 'Strong: a hash of the body.', schema: { type: 'string' } },
              'Cache-Control': { schema: { type: 'string' } },
            },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/WidgetSnapshot' } } },
          },
          304: { description: 'Unchanged since the ETag in If-None-Match.' },
          400: problem('SECRET_KEY_IN_URL: the key is not a publishable one (it is not looked up).'),
          401: problem('No key (UNAUTHENTICATED), or a publishable key past its expiry (KEY_EXPIRED).'),
          403: problem('WRONG_KEY_KIND: a secret key in x-api-key.'),
          404: problem('No such organisation, or not one of this key: the two are not told apart.'),
          405: methodNotAllowed,
          429: rateLimited,
          500: unexpected,
        },
      },
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
      PublicOrgConfig: {
        type: 'object',
        description: 'The public settings: what a publishable (widget) key reads.',
        properties: Object.fromEntries(
          publicLegacyKeys.map((key) => [key, { $ref: `${configSchemaPath}#/$defs/${key}` }]),
        ),
        required: publicLegacyKeys,
        additionalProperties: false,
        'x-public-settings': publicLegacyKeys,
      },
      WidgetSnapshot: {
        type: 'object',
        required: ['orgId', 'version', 'settings'],
        additionalProperties: false,
        properties: {
          orgId: { type: 'string' },
          version: { type: 'integer' },
          settings: jsonSchema(publicSettingsSchema),
        },
      },
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
