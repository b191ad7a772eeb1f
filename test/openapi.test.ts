// /api/openapi.json is a valid OpenAPI 3.1 document, and the real responses match what it declares.
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';

// ajv-formats is CommonJS with a default export: under ESM the function sits one level down.
const addFormats = ((addFormatsPlugin as unknown as { default?: unknown }).default ?? addFormatsPlugin) as (
  ajv: Ajv2020,
) => void;

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/api-keys.ts';
import { createListeningGateway, type ListeningGateway } from './helpers.ts';

let gw: ListeningGateway;
let document: any;
/** The published JSON Schema of the configuration, which the OpenAPI document refers to. */
let configSchema: any;
beforeAll(async () => {
  gw = await createListeningGateway();
  document = await (await fetch(`${gw.baseUrl}/api/openapi.json`)).json();
  configSchema = await (await fetch(`${gw.baseUrl}/api/config.schema.json`)).json();
});

/** Every operation of the document, with its method and path. */
function operations(): [string, string, any][] {
  return Object.entries(document.paths).flatMap(([path, item]: [string, any]) =>
    ['get', 'head', 'put', 'post', 'patch', 'delete']
      .filter((method) => item[method])
      .map((method): [string, string, any] => [method, path, item[method]]),
  );
}
afterAll(() => gw.close());

describe('/api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const validator = new Validator();
    // The settings' schemas are the published JSON Schema, referred to by its path.
    await validator.addSpecRef(configSchema, configSchema.$id);
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes the responses the server really gives', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(configSchema);
    ajv.addSchema(document, 'openapi');
    const operations = document.paths['/api/orgs/{orgId}/config'];
    const url = `${gw.baseUrl}/api/orgs/demo/config`;
    const admin = { 'x-api-key': gw.keys.admin };
    const calls: [string, RequestInit][] = [
      ['get', { headers: admin }],
      ['get', {}],
      ['get', { headers: { ...admin, 'if-none-match': '"v1"' } }],
      [
        'put',
        {
          method: 'PUT',
          headers: { ...admin, 'content-type': 'application/json' },
          body: '{"color":"#fff"}',
        },
      ],
      [
        'post',
        {
          method: 'POST',
          headers: { ...admin, 'content-type': 'application/json' },
          body: '{"color":"bad","nope":1}',
        },
      ],
      ['put', { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: '[' }],
      ['put', { method: 'PUT', headers: { ...admin, 'content-type': 'text/plain' }, body: '{}' }],
      [
        'put',
        {
          method: 'PUT',
          headers: { ...admin, 'content-type': 'application/json', 'if-match': '"v1"' },
          body: '{"color":"#eee"}',
        },
      ],
      [
        'patch',
        {
          method: 'PATCH',
          headers: { 'x-api-key': gw.keys.adviser, 'content-type': 'application/merge-patch+json' },
          body: '{}',
        },
      ],
      [
        'patch',
        {
          method: 'PATCH',
          headers: { ...admin, 'content-type': 'application/merge-patch+json' },
          body: '{"cobrowseEnabled":false}',
        },
      ],
      [
        'put',
        {
          method: 'PUT',
          headers: { ...admin, 'content-type': 'application/json' },
          body: JSON.stringify({ agreement: 'x'.repeat(1_100_000) }),
        },
      ],
      ['get', { method: 'DELETE', headers: admin }],
    ];
    const seen = new Set<number>();
    for (const [operation, init] of calls) {
      const response = await fetch(url, init);
      seen.add(response.status);
      const declared = operations[operation].responses[String(response.status)];
      expect(declared, `${operation} ${response.status} is declared`).toBeDefined();
      const mediaType = response.headers.get('content-type')?.split(';')[0];
      if (response.status === 304) continue;
      const schema = declared.content[mediaType!]?.schema;
      expect(schema, `${operation} ${response.status} ${mediaType} has a schema`).toBeDefined();
      // A read answers one of two shapes (the whole object, or the public settings for a widget key).
      const validate = ajv.compile(
        schema.oneOf
          ? { oneOf: schema.oneOf.map((one: { $ref: string }) => ({ $ref: `openapi${one.$ref}` })) }
          : { $ref: `openapi${schema.$ref}` },
      );
      const valid = validate(await response.json());
      expect(validate.errors ?? [], `${operation} ${response.status}`).toEqual([]);
      expect(valid).toBe(true);
    }
    const foreign = await fetch(`${gw.baseUrl}/api/orgs/other/config`, { headers: admin });
    expect(foreign.status).toBe(404);
    const problemSchema = ajv.compile({ $ref: 'openapi#/components/schemas/Problem' });
    expect(problemSchema(await foreign.json())).toBe(true);
    expect(operations.get.responses['404']).toBeDefined();

    const history = await fetch(`${url}/history?limit=1`, { headers: admin });
    const historySchema = ajv.compile({ $ref: 'openapi#/components/schemas/History' });
    expect(historySchema(await history.json())).toBe(true);

    expect([...seen].sort()).toEqual([200, 304, 400, 401, 403, 405, 412, 413, 415, 422]);

    // The schemas are strict enough to notice a renamed, missing or mistyped key.
    const config = ajv.compile({ $ref: 'openapi#/components/schemas/OrgConfig' });
    const body = await (await fetch(url, { headers: admin })).json();
    expect(config(body)).toBe(true);
    const { color, ...missingColor } = body;
    expect(config(missingColor)).toBe(false);
    expect(config({ ...missingColor, colour: color })).toBe(false);
    expect(config({ ...body, autoAssignedLimit: '4' })).toBe(false);

    // A widget key's answer is the public settings, as PublicOrgConfig says, and not the whole object.
    const widgetKey = (await createApiKey(gw.store, 'demo', 'widget')).key;
    const publicBody = await (await fetch(url, { headers: { 'x-api-key': widgetKey } })).json();
    const publicConfig = ajv.compile({ $ref: 'openapi#/components/schemas/PublicOrgConfig' });
    expect(publicConfig(publicBody)).toBe(true);
    expect(config(publicBody)).toBe(false);
    expect(publicConfig(body)).toBe(false);
    // A body of a write: any settings, but no unknown key.
    const patch = ajv.compile({ $ref: 'openapi#/components/schemas/OrgConfigPatch' });
    expect(patch({ color: '#fff' })).toBe(true);
    expect(patch({ colour: '#fff' })).toBe(false);
  });

  it('names every operation, and declares every status the README documents', () => {
    const ids = operations().map(([, , operation]) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // The README's table of REST answers.
    const documented = [200, 304, 400, 401, 403, 404, 405, 412, 413, 415, 422, 429, 500];
    const declared = new Set(
      operations().flatMap(([, , operation]) => Object.keys(operation.responses).map(Number)),
    );
    expect([...declared].sort((a, b) => a - b)).toEqual(documented);
    // What may happen to any request with a key: refused, limited, or failing unexpectedly.
    for (const [method, path, operation] of operations().filter(([, path]) => path.startsWith('/api/orgs/')))
      for (const status of ['401', '404', '405', '429', '500'])
        expect(operation.responses[status], `${method} ${path} ${status}`).toBeDefined();
  });

  it('refers to the published JSON Schema of the configuration', () => {
    expect(document.components.schemas.OrgConfig).toEqual({ $ref: '/api/config.schema.json' });
    expect(document.components.schemas.OrgConfigPatch).toEqual({
      $ref: '/api/config.schema.json#/$defs/OrgConfigPatch',
    });
    expect(document.paths['/api/config.schema.json'].get.operationId).toBe('getConfigSchema');
  });
});
