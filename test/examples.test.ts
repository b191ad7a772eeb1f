// The subscription examples of the README run as written against a real server.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createListeningGateway, type ListeningGateway } from './helpers.ts';

let gw: ListeningGateway;
let baseUrl: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  gw = await createListeningGateway({ webSockets: true });
  baseUrl = gw.baseUrl;
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill();
  await gw.close();
});

/** Runs an example and resolves with its first line of output. */
function firstLine(script: string, args: string[]): Promise<string> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: new URL('..', import.meta.url).pathname,
    env: { ...process.env, KEY: gw.keys.adviser, GATEWAY_URL: `${baseUrl}/graphql` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
}

describe('README examples', () => {
  it('examples/subscribe-ws.mjs resumes after a version and prints the changes', async () => {
    await gw.graphql(
      'mutation { updateOrgConfig(input: { orgId: "demo", patch: { branding: { color: "#123123" } } }) { __typename } }',
    );
    const line = await firstLine('examples/subscribe-ws.mjs', ['demo', '1']);
    expect(JSON.parse(line)).toEqual({
      version: 2,
      changedFields: ['branding.color'],
      door: 'GRAPHQL',
      config: { branding: { color: '#123123' } },
    });
  });

  it('examples/subscribe-sse.mjs resumes after a version and prints the changes', async () => {
    await gw.graphql(
      'mutation { updateOrgConfig(input: { orgId: "demo", patch: { branding: { name: "Renamed" } } }) { __typename } }',
    );
    const line = await firstLine('examples/subscribe-sse.mjs', ['demo', '1']);
    expect(JSON.parse(line)).toEqual({
      version: 2,
      changedFields: ['branding.name'],
      config: { branding: { name: 'Renamed', color: '#fe7f00' } },
    });
  });
});
