// vitest global setup of the PostgreSQL project: drops the schemas that test processes which no longer
// run left behind (a run killed half-way cannot drop its own), so the shared server does not fill up.
import pg from 'pg';
import { testPostgresUrl } from './databases.ts';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export default async function dropStaleSchemas(): Promise<void> {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'org_config_test_%'`,
    );
    for (const { name } of rows) {
      const pid = Number(/^org_config_test_(\d+)_/.exec(name)?.[1]);
      if (pid && !running(pid))
        await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(name)} CASCADE`);
    }
  } finally {
    await client.end();
  }
}
