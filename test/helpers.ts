// Test helpers: a gateway on a fresh database (SQLite, or PostgreSQL in the postgres project) with the demo org, its keys, and a GraphQL caller.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operator } from '../src/auth/actor.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { openBackend } from '../src/backend.ts';
import { ConfigService } from '../src/config/service.ts';
import { exampleSettings } from '../src/demo.ts';
import { createGateway, type GatewayDeps } from '../src/gateway.ts';
import { createTestDatabase } from './support/databases.ts';

export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'org-config-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface GraphQLResponse {
  data?: Record<string, any> | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string } }[];
}

/** A store and change feed on a new database of the suite's kind; close() also drops the database. */
export async function createTestBackend(options: { onError?: (error: unknown) => void } = {}) {
  const database = await createTestDatabase();
  const backend = await openBackend(
    { databaseUrl: database.url },
    { pollIntervalMs: 20, onError: options.onError ?? ((error) => console.error(error)) },
  );
  let closed = false;
  return {
    ...backend,
    database,
    async close() {
      if (closed) return;
      closed = true;
      await backend.close();
      await database.drop();
    },
  };
}

/** A gateway on a new database: org "demo" (the documented example) and org "other", with keys. */
export async function createTestGateway(
  options: Pick<
    GatewayDeps,
    'rateLimits' | 'logger' | 'streamLimits' | 'webhooks' | 'widgetSnapshot' | 'clock' | 'streamKeyRecheckMs'
  > = {},
) {
  const backend = await createTestBackend();
  const { store, events, database } = backend;
  const service = new ConfigService(store, events);
  await service.createOrg(operator, 'demo', exampleSettings());
  await service.createOrg(operator, 'other');
  const keys = {
    admin: (await createApiKey(store, 'demo', 'admin')).key,
    adviser: (await createApiKey(store, 'demo', 'adviser')).key,
    otherAdmin: (await createApiKey(store, 'other', 'admin')).key,
  };
  const gateway = createGateway({ store, events, ...options });
  // Requests go through the edge, as in production: on a real HTTP server (with its WebSocket door).
  const server = await listen(gateway, { webSockets: true });

  /** fetch, with http://gateway.test standing for the gateway's address. */
  const fetchGateway = (url: string, init?: RequestInit) =>
    fetch(url.replace('http://gateway.test', server.baseUrl), init);

  async function graphql(
    query: string,
    variables?: Record<string, unknown>,
    key: string | null = keys.admin,
  ): Promise<GraphQLResponse> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
    };
    if (key !== null) headers['x-api-key'] = key;
    const response = await fetchGateway('http://gateway.test/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse;
  }

  return {
    store,
    events,
    service,
    gateway,
    keys,
    /** DATABASE_URL of the gateway's database, for other processes (the CLI) to share it. */
    databaseUrl: database.url,
    database,
    graphql,
    fetch: fetchGateway,
    baseUrl: server.baseUrl,
    async close() {
      await server.close();
      await gateway.close();
      await backend.close();
    },
  };
}

export type TestGateway = Awaited<ReturnType<typeof createTestGateway>>;

/**
 * Serves a gateway on a real HTTP server on a free loopback port as main.ts does, with its
 * WebSocket door when asked.
 */
export async function listen(
  gateway: import('../src/gateway.ts').Gateway,
  options: { webSockets?: boolean } = {},
): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer(gateway.listener);
  const webSockets = options.webSockets ? gateway.webSockets(server) : null;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as import('node:net').AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await webSockets?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** Opens a GraphQL subscription over SSE (yoga's own, distinct connections) and reads its events one by one. */
export interface SseStream {
  status: number;
  headers: Headers;
  /** The next event; fails once the stream has ended, or after timeoutMs. */
  next: (timeoutMs?: number) => Promise<SseEvent>;
  close: () => void;
}

/** A subscription over SSE as a GraphQL client sends it: POST /graphql, the operation in the body. */
export function sseSubscribe(
  baseUrl: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<SseStream> {
  return sseOpen(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
}

/** An event stream as a browser's EventSource opens it: GET, the operation and credential in the URL. */
export function sseGet(
  baseUrl: string,
  query: string,
  variables: Record<string, unknown>,
  credential: { key: string } | { ticket: string } | Record<string, never>,
  headers: Record<string, string> = {},
): Promise<SseStream> {
  const search = new URLSearchParams({ query, variables: JSON.stringify(variables), ...credential });
  return sseOpen(`${baseUrl}/graphql?${search}`, { headers });
}

/** Opens an event stream (Accept: text/event-stream) and reads its events as they come. */
export async function sseOpen(url: string, init: RequestInit): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    ...init,
    headers: { accept: 'text/event-stream', ...(init.headers as Record<string, string>) },
    signal: controller.signal,
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queued: SseEvent[] = [];

  async function next(timeoutMs = 5_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = queued.shift();
      if (event) return event;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('no SSE event in time');
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no SSE event within ${timeoutMs} ms`)), remaining);
        }),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) throw new Error('the event stream ended');
      buffer += chunk.value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(
          frame
            .split('\n')
            .filter((line) => line && !line.startsWith(':'))
            .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart()]),
        );
        if (fields.event) queued.push({ event: fields.event, id: fields.id, data: fields.data ?? '' });
      }
    }
  }

  return { status: response.status, headers: response.headers, next, close: () => controller.abort() };
}

const projectRoot = new URL('..', import.meta.url).pathname;

/**
 * Starts the real gateway (`node --import tsx src/main.ts`) and resolves once it listens, with what
 * it printed until then. The child is added to `children` for the caller to kill.
 */
export function startGatewayProcess(
  env: Record<string, string>,
  children: import('node:child_process').ChildProcess[],
  /** What node runs: the source through tsx (npm start), or the bundle (npm run start:built). */
  entry: string[] = ['--import', 'tsx', 'src/main.ts'],
): Promise<{ child: import('node:child_process').ChildProcess; output: string; baseUrl: string }> {
  return import('node:child_process').then(({ spawn }) =>
    import('node:readline').then(({ createInterface }) => {
      const child = spawn(process.execPath, entry, {
        cwd: projectRoot,
        env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      return new Promise((resolve, reject) => {
        const lines: string[] = [];
        let stderr = '';
        child.stderr!.on('data', (chunk) => (stderr += chunk));
        child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${stderr}`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          lines.push(line);
          // The listening line comes last, after the demo key block of a first start.
          const baseUrl = /listening on (http:\/\/\S+)\/graphql/.exec(line)?.[1];
          if (baseUrl) resolve({ child, output: lines.join('\n'), baseUrl });
        });
      });
    }),
  );
}

export function exited(child: import('node:child_process').ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Waits until `condition` holds, checking after each turn of the event loop; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export type ListeningGateway = TestGateway;

/** A test gateway served on a real HTTP server with its WebSocket door (every test gateway is). */
export async function createListeningGateway(
  options: { webSockets?: boolean; streamLimits?: GatewayDeps['streamLimits'] } = {},
): Promise<ListeningGateway> {
  return createTestGateway({ streamLimits: options.streamLimits });
}
