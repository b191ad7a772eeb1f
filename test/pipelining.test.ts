// Pipelined requests after a write are answered as if sent one at a time: each sees the write before it.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from './helpers.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway();
});
afterAll(() => gw.close());

interface Answer {
  status: number;
  etag: string | undefined;
  body: string;
}

/** Sends the requests in one write on one connection (the last asks to close it); the answers in order. */
function pipelined(
  requests: { method: string; path: string; headers?: Record<string, string>; body?: string }[],
) {
  const { hostname, port } = new URL(gw.baseUrl);
  const wire = requests
    .map(({ method, path, headers = {}, body = '' }, index) => {
      const lines = [
        `${method} ${path} HTTP/1.1`,
        `host: ${hostname}:${port}`,
        `x-api-key: ${gw.keys.admin}`,
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
        ...(body ? [`content-length: ${Buffer.byteLength(body)}`] : []),
        ...(index === requests.length - 1 ? ['connection: close'] : []),
      ];
      return `${lines.join('\r\n')}\r\n\r\n${body}`;
    })
    .join('');
  return new Promise<Answer[]>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(wire));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const answers = text.split(/(?=HTTP\/1\.1 \d{3} )/).map((raw) => {
        const [head = '', body = ''] = raw.split('\r\n\r\n');
        return {
          status: Number(head.slice(9, 12)),
          etag: /\r\netag: ([^\r]+)/i.exec(head)?.[1],
          body,
        };
      });
      resolve(answers);
    });
  });
}

const json = { 'content-type': 'application/json' };
const currentVersion = async () =>
  Number(
    (
      await gw.fetch('http://gateway.test/api/orgs/demo/config', { headers: { 'x-api-key': gw.keys.admin } })
    ).headers
      .get('etag')!
      .slice(2, -1),
  );

describe('pipelined requests after a write', () => {
  it('a REST GET after a PUT sees the PUT, also with If-None-Match naming the version before it', async () => {
    for (let round = 0; round < 10; round++) {
      const before = await currentVersion();
      const color = `#0000${String(round).padStart(2, '0')}`;
      const [put, read] = await pipelined([
        { method: 'PUT', path: '/api/orgs/demo/config', headers: json, body: JSON.stringify({ color }) },
        { method: 'GET', path: '/api/orgs/demo/config', headers: { 'if-none-match': `"v${before}"` } },
      ]);
      expect(put!.status).toBe(200);
      expect(put!.etag).toBe(`"v${before + 1}"`);
      expect(read!.status).toBe(200);
      expect(read!.etag).toBe(`"v${before + 1}"`);
      expect(JSON.parse(read!.body).color).toBe(color);
    }
  });

  it('a REST GET after a PATCH, and after a GraphQL mutation, sees the change', async () => {
    const before = await currentVersion();
    const mutation = JSON.stringify({
      query: 'mutation ($input: UpdateOrgConfigInput!) { updateOrgConfig(input: $input) { __typename } }',
      variables: { input: { orgId: 'demo', patch: { branding: { color: '#abcdef' } } } },
    });
    const answers = await pipelined([
      {
        method: 'PATCH',
        path: '/api/orgs/demo/config',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ callsDisabled: true, color: '#123456' }),
      },
      { method: 'GET', path: '/api/orgs/demo/config' },
      { method: 'POST', path: '/graphql', headers: json, body: mutation },
      { method: 'GET', path: '/api/orgs/demo/config' },
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(answers[1]!.etag).toBe(`"v${before + 1}"`);
    expect(JSON.parse(answers[1]!.body).color).toBe('#123456');
    expect(answers[3]!.etag).toBe(`"v${before + 2}"`);
    expect(JSON.parse(answers[3]!.body).color).toBe('#abcdef');
  });
});
