// Settings from the environment: typed, validated once at start, with a clear message on a bad value.
import { z } from 'zod';

export const defaultDatabaseUrl = 'file:./data/org-config.db';

const databaseUrl = z
  .string()
  .refine((value) => /^file:[^?#]+$/.test(value), {
    message: 'must be file:PATH, a SQLite database file (e.g. file:./data/org-config.db), without ?options, or file::memory:',
  });

const environmentSchema = z.object({
  PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number, 0 to 65535')
    .transform(Number)
    .refine((port) => port <= 65_535, 'must be a port number, 0 to 65535')
    .default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: databaseUrl.default(defaultDatabaseUrl),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  SEED_DEMO: z.enum(['true', 'false']).default('true'),
});

export interface Settings {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  /** Path of the SQLite file, from DATABASE_URL (":memory:" for an in-memory database). */
  readonly sqlitePath: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Create the demo organisation and print an admin key when the database has no organisation. */
  readonly seedDemo: boolean;
}

export class SettingsError extends Error {}

export function sqlitePathOf(databaseUrl: string): string {
  return databaseUrl.slice('file:'.length);
}

/** Reads the settings; throws SettingsError naming every bad variable. */
export function loadSettings(environment: NodeJS.ProcessEnv = process.env): Settings {
  const present = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''));
  const result = environmentSchema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}=${JSON.stringify(environment[String(issue.path[0])])}: ${issue.message}`);
    throw new SettingsError(`invalid settings:\n${lines.join('\n')}`);
  }
  const env = result.data;
  return {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    sqlitePath: sqlitePathOf(env.DATABASE_URL),
    logLevel: env.LOG_LEVEL,
    seedDemo: env.SEED_DEMO === 'true',
  };
}
