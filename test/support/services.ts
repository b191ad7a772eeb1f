// Whether the PostgreSQL and Redis servers of the suites answer: the PostgreSQL project runs only if they do.
import { Socket } from 'node:net';
import pg from 'pg';
import { testPostgresUrl, testRedisUrl } from './databases.ts';

async function postgresAnswers(): Promise<string | null> {
  const client = new pg.Client({ connectionString: testPostgresUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `PostgreSQL at ${testPostgresUrl}: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redisAnswers(): Promise<string | null> {
  const url = new URL(testRedisUrl);
  return new Promise((resolve) => {
    const socket = new Socket();
    const fail = (reason: string) => {
      socket.destroy();
      resolve(`Redis at ${testRedisUrl}: ${reason}`);
    };
    socket.setTimeout(3_000, () => fail('no answer in 3 s'));
    socket.once('error', (error) => fail(error.message));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(
        data.toString().startsWith('+PONG')
          ? null
          : `Redis at ${testRedisUrl}: answered ${JSON.stringify(data.toString().trim())}`,
      );
    });
    socket.connect(Number(url.port || 6379), url.hostname, () => socket.write('PING\r\n'));
  });
}

/** Why the PostgreSQL and Redis suites cannot run here, or an empty list when they can. */
export async function missingServices(): Promise<string[]> {
  const reasons = await Promise.all([postgresAnswers(), redisAnswers()]);
  return reasons.filter((reason): reason is string => reason !== null);
}
