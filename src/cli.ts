// Admin commands on the gateway's database: organisations, API keys, config export/import, migrate.
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { operator } from './auth/actor.ts';
import { createApiKey, isExpired, parseDuration } from './auth/api-keys.ts';
import { openStore } from './backend.ts';
import {
  ConfigValidationError,
  OrgExistsError,
  OrgNotFoundError,
  VersionConflictError,
} from './config/errors.ts';
import { fromLegacy, toLegacy, toLegacyPath } from './config/legacy.ts';
import { defaultSettings } from './config/model.ts';
import { ConfigService } from './config/service.ts';
import { topLevelGroups } from './config/visibility.ts';
import { RedisSignals } from './events/redis-signals.ts';
import { loggableError } from './loggable-error.ts';
import { loadSettings, SettingsError } from './settings.ts';
import { type ApiKeyRecord, type ConfigStore, type Role, roles } from './store/config-store.ts';
import { copySqliteToPostgres, TargetNotEmptyError, UnstorableTextError } from './store/copy.ts';
import { PostgresConfigStore } from './store/postgres/postgres-store.ts';
import { openSqliteStore } from './store/sqlite/sqlite-store.ts';
import { WebhookNotFoundError } from './webhooks/errors.ts';
import { webhookServiceOptions } from './webhooks/from-settings.ts';
import { WebhookService } from './webhooks/service.ts';
import { webhookStoreOf } from './webhooks/store-of.ts';
import type { DeliveryAttempt, WebhookRecord } from './webhooks/webhook-store.ts';

export const usage = `Usage: npm run cli -- <command> [options]    (or: org-config <command>)

Commands:
  org create <orgId> [--name NAME]          create an organisation with the documented default settings
  org list                                  list organisations
  key create --org <orgId> --role admin|adviser|widget [--groups G1,G2] [--expires-in 90d]
                                            create an API key; the key alone is the last line of output.
                                            widget: a publishable pk_ key (public settings, read only);
                                            --groups: the top-level groups a secret key may change;
                                            --expires-in: 45s, 30m, 12h or 90d
  key list --org <orgId>                    list an organisation's keys: role, groups, expiry, last use
                                            (never the keys; last use is written every minute)
  key rotate <keyId> [--overlap 1h]         a new key with the same grants (last line); the old one
                                            works until the overlap ends (default 0s: at once)
  key revoke <keyId>                        revoke a key at once
  config export <orgId>                     print the configuration as the legacy flat JSON
  config import <orgId> <file> [--expected-version N]
                                            apply a legacy flat JSON file (whole or partial), validated
  webhook add --org <orgId> --url <url> [--fields a,b]
                                            add a webhook; its signing secret alone is the last line
  webhook list --org <orgId>                list an organisation's webhooks (never their secrets)
  webhook remove <webhookId>                delete a webhook and its delivery log
  webhook enable <webhookId>                enable a (disabled) webhook: delivery resumes where it stopped
  webhook disable <webhookId>               stop delivering to a webhook until it is enabled
  webhook rotate <webhookId>                a new signing secret (last line); the old one signs 24 h more
  webhook deliveries <webhookId> [--version N] [--limit N]
                                            the delivery log, newest first
  webhook redeliver <webhookId> --version N send one change again, now
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

function groupsOf(value: string | undefined, role: Role): string[] | null {
  if (value === undefined) return null;
  if (role === 'widget') throw new UsageError('--groups is for secret keys: a widget key never writes');
  const groups = value.split(',').map((group) => group.trim());
  const unknown = groups.filter((group) => !topLevelGroups.includes(group));
  if (unknown.length > 0 || groups.length === 0)
    throw new UsageError(
      `--groups takes top-level groups of the settings (${topLevelGroups.join(', ')}), not "${unknown.join(',') || value}"`,
    );
  return [...new Set(groups)];
}

function durationOf(value: string, option: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`--${option} must be a duration such as 45s, 30m, 12h or 90d`);
  return ms;
}

async function orgMustExist(store: ConfigStore, orgId: string): Promise<void> {
  if (!(await store.getConfig(orgId))) throw new OrgNotFoundError(orgId);
}

type Command = (args: string[], store: ConfigStore, io: CliIo) => Promise<void>;

/** The webhook service at the database, checking URLs as the gateway does (WEBHOOK_* settings). */
function webhookService(store: ConfigStore, io: CliIo): WebhookService {
  const webhooks = webhookStoreOf(store);
  if (!webhooks) throw new CliRefusal('this database keeps no webhooks');
  return new WebhookService(
    webhooks,
    new ConfigService(store),
    store,
    webhookServiceOptions(loadSettings(io.env).webhooks),
  );
}

function webhookLine(webhook: WebhookRecord): string {
  const state = webhook.enabled
    ? webhook.failures > 0
      ? `retrying (${webhook.failures} failed)`
      : 'enabled'
    : `disabled: ${webhook.disabledReason ?? ''}`;
  const fields = webhook.fields.length > 0 ? webhook.fields.join(',') : '*';
  return `${webhook.id}\t${webhook.url}\tfields ${fields}\tdelivered to version ${webhook.cursorVersion}\t${state}`;
}

function deliveryLine(attempt: DeliveryAttempt): string {
  const outcome = attempt.status === null ? (attempt.error ?? 'no answer') : `HTTP ${attempt.status}`;
  const excerpt = attempt.excerpt ? `\t${JSON.stringify(attempt.excerpt.slice(0, 80))}` : '';
  return `${attempt.attemptedAt.toISOString()}\tversion ${attempt.version}\tattempt ${attempt.attempt}${attempt.manual ? ' (manual)' : ''}\t${attempt.durationMs} ms\t${attempt.delivered ? 'delivered' : 'failed'}\t${outcome}${excerpt}`;
}

function wholeNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`--${name} must be a whole number`);
  return Number(value);
}

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
    const { values } = parse(
      args,
      {
        org: { type: 'string' },
        role: { type: 'string' },
        groups: { type: 'string' },
        'expires-in': { type: 'string' },
      },
      0,
    );
    const orgId = required(values, 'org');
    const role = roleOf(required(values, 'role'));
    const groups = groupsOf(values.groups, role);
    const lifetime =
      values['expires-in'] === undefined ? null : durationOf(values['expires-in'], 'expires-in');
    await orgMustExist(store, orgId);
    const expiresAt = lifetime === null ? null : new Date(Date.now() + lifetime);
    const { record, key } = await createApiKey(store, orgId, role, { groups, expiresAt });
    io.out(`created ${describe(record)} for ${record.orgId}; it is shown this once:`);
    io.out(key);
  },
  async 'key list'(args, store, io) {
    const { values } = parse(args, { org: { type: 'string' } }, 0);
    const orgId = required(values, 'org');
    await orgMustExist(store, orgId);
    const now = Date.now();
    for (const key of await store.listApiKeys(orgId)) {
      const state = key.revokedAt
        ? `revoked ${key.revokedAt.toISOString()}`
        : isExpired(key, now)
          ? 'expired'
          : 'active';
      io.out(
        [
          key.id,
          key.role,
          `groups ${key.groups?.join(',') ?? 'all'}`,
          `expires ${key.expiresAt?.toISOString() ?? 'never'}`,
          `last used ${key.lastUsedAt?.toISOString() ?? 'never'}`,
          `created ${key.createdAt.toISOString()}`,
          state,
        ].join('\t'),
      );
    }
  },
  async 'key rotate'(args, store, io) {
    const { values, positionals } = parse(args, { overlap: { type: 'string' } }, 1);
    const keyId = positionals[0] as string;
    const overlap = values.overlap === undefined ? 0 : durationOf(values.overlap, 'overlap');
    const old = await store.findApiKeyById(keyId);
    const now = Date.now();
    if (!old || isExpired(old, now)) throw new CliRefusal(`no active key ${keyId}`);
    // The same grants; a key that expires gets a lifetime as long as the old one's.
    const expiresAt = old.expiresAt && new Date(now + (old.expiresAt.getTime() - old.createdAt.getTime()));
    const { record, key } = await createApiKey(store, old.orgId, old.role, { groups: old.groups, expiresAt });
    const oldUntil = new Date(now + overlap);
    await store.expireApiKey(old.id, oldUntil);
    io.out(`${old.id} works until ${oldUntil.toISOString()} (or its earlier expiry), then stops`);
    io.out(`created ${describe(record)} for ${record.orgId}, replacing ${old.id}; it is shown this once:`);
    io.out(key);
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
    io.out(JSON.stringify(toLegacy(config.settings), null, 2));
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
    // Unknown keys are reported by the service, with every other problem of the file.
    const { patch, unknownKeys } = fromLegacy(body as Record<string, unknown>);
    const { config, changes } = await new ConfigService(store).update(operator, {
      orgId,
      patch,
      doorProblems: unknownKeys,
      expectedVersion: expected === undefined ? null : Number(expected),
      door: 'cli',
    });
    io.out(
      changes.length > 0
        ? `imported ${changes.length} changed setting(s); ${orgId} is at version ${config.version}`
        : `nothing changed; ${orgId} stays at version ${config.version}`,
    );
  },
  async 'webhook add'(args, store, io) {
    const { values } = parse(
      args,
      { org: { type: 'string' }, url: { type: 'string' }, fields: { type: 'string' } },
      0,
    );
    const fields = values.fields
      ?.split(',')
      .map((field) => field.trim())
      .filter(Boolean);
    const { webhook, secret } = await webhookService(store, io).create(operator, {
      orgId: required(values, 'org'),
      url: required(values, 'url'),
      fields,
    });
    io.out(
      `created webhook ${webhook.id} for ${webhook.orgId}, from version ${webhook.cursorVersion} on; its signing secret is shown this once:`,
    );
    io.out(secret!);
  },
  async 'webhook list'(args, store, io) {
    const { values } = parse(args, { org: { type: 'string' } }, 0);
    for (const webhook of await webhookService(store, io).list(operator, required(values, 'org')))
      io.out(webhookLine(webhook));
  },
  async 'webhook remove'(args, store, io) {
    const { positionals } = parse(args, {}, 1);
    const removed = await webhookService(store, io).delete(operator, positionals[0] as string);
    io.out(`removed webhook ${removed.id}`);
  },
  async 'webhook enable'(args, store, io) {
    const { positionals } = parse(args, {}, 1);
    const { webhook } = await webhookService(store, io).update(operator, {
      id: positionals[0] as string,
      enabled: true,
    });
    io.out(`enabled webhook ${webhook.id}; delivery resumes after version ${webhook.cursorVersion}`);
  },
  async 'webhook disable'(args, store, io) {
    const { positionals } = parse(args, {}, 1);
    const { webhook } = await webhookService(store, io).update(operator, {
      id: positionals[0] as string,
      enabled: false,
    });
    io.out(`disabled webhook ${webhook.id}`);
  },
  async 'webhook rotate'(args, store, io) {
    const { positionals } = parse(args, {}, 1);
    const { webhook, secret } = await webhookService(store, io).update(operator, {
      id: positionals[0] as string,
      rotateSecret: true,
    });
    io.out(
      `rotated the secret of webhook ${webhook.id}; the previous one also signs until ${webhook.previousSecretUntil?.toISOString()}; the new one is shown this once:`,
    );
    io.out(secret!);
  },
  async 'webhook deliveries'(args, store, io) {
    const { values, positionals } = parse(
      args,
      { version: { type: 'string' }, limit: { type: 'string' } },
      1,
    );
    const attempts = await webhookService(store, io).deliveries(operator, positionals[0] as string, {
      first: wholeNumber(values.limit, 'limit') ?? 20,
      version: wholeNumber(values.version, 'version'),
    });
    for (const attempt of attempts) io.out(deliveryLine(attempt));
  },
  async 'webhook redeliver'(args, store, io) {
    const { values, positionals } = parse(args, { version: { type: 'string' } }, 1);
    const version = wholeNumber(required(values, 'version'), 'version')!;
    const attempt = await webhookService(store, io).redeliver(operator, positionals[0] as string, version);
    io.out(deliveryLine(attempt));
    if (!attempt.delivered) throw new CliRefusal(`version ${version} was not delivered`);
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

function describe(record: ApiKeyRecord): string {
  const groups = record.groups ? `, may change ${record.groups.join(', ')}` : '';
  const expiry = record.expiresAt ? `, expires ${record.expiresAt.toISOString()}` : '';
  return `${record.role} key ${record.id}${groups}${expiry}`;
}

/** Commands that change nothing: running gateways need not hear of them. */
const readOnly = new Set([
  'org list',
  'key list',
  'config export',
  'migrate',
  'webhook list',
  'webhook deliveries',
]);

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
    error instanceof WebhookNotFoundError ||
    error instanceof UnstorableTextError ||
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
    store = await openStore(settings, (error) => io.err(`database: ${loggableError(error).message}`));
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
    // Never the error as it is: a failed query's message carries its parameters, the settings' values.
    const { stack, message } = loggableError(error);
    console.error(stack ?? message);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
