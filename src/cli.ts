// Admin commands on the gateway's database: organisations, API keys, config export/import, migrate.
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { operator } from './auth/actor.ts';
import { createApiKey } from './auth/api-keys.ts';
import { openStore } from './backend.ts';
import {
  ConfigValidationError,
  OrgExistsError,
  OrgNotFoundError,
  VersionConflictError,
} from './config/errors.ts';
import { parseLegacyPatch, toLegacy, toLegacyPath } from './config/legacy.ts';
import { defaultSettings } from './config/model.ts';
import { ConfigService } from './config/service.ts';
import { RedisSignals } from './events/redis-signals.ts';
import { loadSettings, SettingsError } from './settings.ts';
import { type ConfigStore, type Role, roles } from './store/config-store.ts';
import { copySqliteToPostgres, TargetNotEmptyError } from './store/copy.ts';
import { PostgresConfigStore } from './store/postgres/postgres-store.ts';
import { openSqliteStore } from './store/sqlite/sqlite-store.ts';

export const usage = `Usage: npm run cli -- <command> [options]    (or: org-config <command>)

Commands:
  org create <orgId> [--name NAME]          create an organisation with the documented default settings
  org list                                  list organisations
  key create --org <orgId> --role admin|adviser
                                            create an API key; the key alone is the last line of output
  key list --org <orgId>                    list an organisation's keys (ids and roles, never the keys)
  key revoke <keyId>                        revoke a key at once
  config export <orgId>                     print the configuration as the legacy flat JSON
  config import <orgId> <file> [--expected-version N]
                                            apply a legacy flat JSON file (whole or partial), validated
  migrate                                   create or migrate the database, then exit
  copy --from file:PATH                     copy every organisation, key and revision of a SQLite
                                            database into DATABASE_URL, an empty PostgreSQL database

The database is DATABASE_URL (default file:./data/org-config.db, or postgres://...), as for the
server; with REDIS_URL set, running gateways hear of changes at once.
Exit codes: 0 done, 1 refused (not found, invalid configuration, conflict), 2 bad arguments.`;

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

class UsageError extends Error {}

function parse(args: string[], options: Record<string, { type: 'string' }>, positionals: number) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(
      `expected ${positionals} argument(s), got ${parsed.positionals.length}: ${parsed.positionals.join(' ') || '(none)'}`,
    );
  }
  return { values: parsed.values as Record<string, string | undefined>, positionals: parsed.positionals };
}

function required(values: Record<string, string | undefined>, name: string): string {
  const value = values[name];
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

function roleOf(value: string): Role {
  if (!(roles as readonly string[]).includes(value))
    throw new UsageError(`--role must be one of ${roles.join(', ')}, not "${value}"`);
  return value as Role;
}

async function orgMustExist(store: ConfigStore, orgId: string): Promise<void> {
  if (!(await store.getConfig(orgId))) throw new OrgNotFoundError(orgId);
}

type Command = (args: string[], store: ConfigStore, io: CliIo) => Promise<void>;

const commands: Record<string, Command> = {
  async 'org create'(args, store, io) {
    const { values, positionals } = parse(args, { name: { type: 'string' } }, 1);
    const orgId = positionals[0] as string;
    const config = await new ConfigService(store).createOrg(
      operator,
      orgId,
      defaultSettings(values.name ?? orgId),
    );
    io.out(`created organisation ${config.orgId} (version ${config.version})`);
  },
  async 'org list'(args, store, io) {
    parse(args, {}, 0);
    for (const org of await new ConfigService(store).listOrgs(operator)) {
      io.out(`${org.orgId}\tversion ${org.version}\tupdated ${org.updatedAt.toISOString()}\t${org.name}`);
    }
  },
  async 'key create'(args, store, io) {
    const { values } = parse(args, { org: { type: 'string' }, role: { type: 'string' } }, 0);
    const orgId = required(values, 'org');
    const role = roleOf(required(values, 'role'));
    await orgMustExist(store, orgId);
    const { record, key } = await createApiKey(store, orgId, role);
    io.out(`created ${record.role} key ${record.id} for ${record.orgId}; it is shown this once:`);
    io.out(key);
  },
  async 'key list'(args, store, io) {
    const { values } = parse(args, { org: { type: 'string' } }, 0);
    const orgId = required(values, 'org');
    await orgMustExist(store, orgId);
    for (const key of await store.listApiKeys(orgId)) {
      const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : 'active';
      io.out(`${key.id}\t${key.role}\tcreated ${key.createdAt.toISOString()}\t${state}`);
    }
  },
  async 'key revoke'(args, store, io) {
    const { positionals } = parse(args, {}, 1);
    const keyId = positionals[0] as string;
    if (!(await store.revokeApiKey(keyId))) throw new CliRefusal(`no active key ${keyId}`);
    io.out(`revoked ${keyId}`);
  },
  async 'config export'(args, store, io) {
    const { positionals } = parse(args, {}, 1);
    const config = await new ConfigService(store).get(operator, positionals[0] as string);
    io.out(JSON.stringify(toLegacy(config.settings, Date.now()), null, 2));
  },
  async 'config import'(args, store, io) {
    const { values, positionals } = parse(args, { 'expected-version': { type: 'string' } }, 2);
    const [orgId, file] = positionals as [string, string];
    const expected = values['expected-version'];
    if (expected !== undefined && !/^\d+$/.test(expected))
      throw new UsageError('--expected-version must be a whole number');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new CliRefusal(`${file} is not JSON: ${(error as Error).message}`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new CliRefusal(`${file} must hold a JSON object`);
    const parsed = parseLegacyPatch(body as Record<string, unknown>);
    if (!parsed.ok) throw new ConfigValidationError(parsed.problems);
    const { config, changes } = await new ConfigService(store).update(operator, {
      orgId,
      patch: parsed.patch,
      expectedVersion: expected === undefined ? null : Number(expected),
      door: 'cli',
    });
    io.out(
      changes.length > 0
        ? `imported ${changes.length} changed setting(s); ${orgId} is at version ${config.version}`
        : `nothing changed; ${orgId} stays at version ${config.version}`,
    );
  },
  async migrate(args, _store, io) {
    parse(args, {}, 0);
    io.out('database is migrated');
  },
  async copy(args, store, io) {
    const { values } = parse(args, { from: { type: 'string' } }, 0);
    const from = required(values, 'from');
    if (!/^file:[^?#]+$/.test(from)) throw new UsageError('--from must be file:PATH, a SQLite database');
    if (!(store instanceof PostgresConfigStore))
      throw new UsageError('copy writes into PostgreSQL: set DATABASE_URL=postgres://...');
    const path = from.slice('file:'.length);
    if (!existsSync(path)) throw new UsageError(`no SQLite database at ${path}`);
    const source = openSqliteStore(path);
    try {
      const copied = await copySqliteToPostgres(source, store);
      io.out(
        `copied ${copied.orgs} organisation(s), ${copied.keys} key(s) and ${copied.revisions} revision(s) into PostgreSQL`,
      );
    } finally {
      await source.close();
    }
  },
};

/** Commands that change nothing: running gateways need not hear of them. */
const readOnly = new Set(['org list', 'key list', 'config export', 'migrate']);

/** A command that understood its arguments but could not be carried out (exit code 1). */
class CliRefusal extends Error {}

function refusalMessage(error: unknown): string | null {
  if (error instanceof ConfigValidationError) {
    const lines = error.problems.map(
      (problem) =>
        `  ${toLegacyPath(problem.path).join('/') || '(root)'}: ${problem.message} [${problem.code}]`,
    );
    return `invalid configuration, nothing written:\n${lines.join('\n')}`;
  }
  if (
    error instanceof OrgNotFoundError ||
    error instanceof OrgExistsError ||
    error instanceof VersionConflictError ||
    error instanceof TargetNotEmptyError ||
    error instanceof CliRefusal
  ) {
    return error.message;
  }
  return null;
}

/**
 * Through Redis, running gateways hear of commits only from whoever made them: tell them (on
 * PostgreSQL alone, the store's own NOTIFY does). If Redis is away, their catch-up read finds
 * changed configurations within a second, and their key cache forgets a revoked key within 30 s.
 */
async function tellGateways(redisUrl: string, store: PostgresConfigStore, io: CliIo): Promise<void> {
  const signals = new RedisSignals(redisUrl, store.channel, () => undefined);
  try {
    await signals.publish('unknown');
  } catch (error) {
    io.err(
      `note: running gateways could not be told through Redis (${(error as Error).message}); they see changed configurations within a second, a revoked key within 30 s`,
    );
  } finally {
    await signals.close();
  }
}

/** Runs one command; answers the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') {
    (argv.length === 0 ? io.err : io.out)(usage);
    return argv.length === 0 ? 2 : 0;
  }
  const name = argv[0] === 'migrate' || argv[0] === 'copy' ? argv[0] : `${argv[0]} ${argv[1] ?? ''}`;
  const command = commands[name];
  if (!command) {
    io.err(`unknown command "${argv.slice(0, 2).join(' ')}"\n\n${usage}`);
    return 2;
  }
  let store: ConfigStore | undefined;
  try {
    const settings = loadSettings(io.env);
    store = await openStore(settings, (error) => io.err(`database: ${(error as Error).message}`));
    await command(argv.slice(name.split(' ').length), store, io);
    if (settings.redisUrl && !readOnly.has(name))
      await tellGateways(settings.redisUrl, store as PostgresConfigStore, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof SettingsError) {
      io.err(`${error.message}\n\n${usage}`);
      return 2;
    }
    const message = refusalMessage(error);
    if (message === null) throw error;
    io.err(message);
    return 1;
  } finally {
    await store?.close();
  }
}

/** The process entry: runs the command of `argv` with the real environment and exits with its code. */
export async function main(argv: readonly string[]): Promise<never> {
  const io: CliIo = {
    env: process.env,
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  };
  try {
    process.exit(await runCli(argv, io));
  } catch (error) {
    console.error(error);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
