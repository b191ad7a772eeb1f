// Webhook endpoints and their delivery log in the SQLite file (one writer at a time: a claim is one IMMEDIATE transaction).
import { and, asc, count, desc, eq, inArray, isNull, lt, lte, or } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import {
  type DeliveryAttempt,
  type NewWebhook,
  type WebhookChange,
  type WebhookStore,
  withoutLease,
} from '../../webhooks/webhook-store.ts';
import { orgConfigs, webhookDeliveries, webhooks } from './schema.ts';

export class SqliteWebhookStore implements WebhookStore {
  /** The config store's drizzle handle of the moment: it replaces its connection when it reopens the file. */
  constructor(private readonly database: () => BetterSQLite3Database) {}

  private get db(): BetterSQLite3Database {
    return this.database();
  }

  async createWebhook(webhook: NewWebhook, maxPerOrg: number) {
    return this.db.transaction(
      (tx) => {
        const org = tx
          .select({ version: orgConfigs.version })
          .from(orgConfigs)
          .where(eq(orgConfigs.orgId, webhook.orgId))
          .get();
        if (!org) return { error: 'org-not-found' as const };
        const existing = tx
          .select({ n: count() })
          .from(webhooks)
          .where(eq(webhooks.orgId, webhook.orgId))
          .get();
        if ((existing?.n ?? 0) >= maxPerOrg) return { error: 'too-many' as const };
        const row = tx
          .insert(webhooks)
          .values({
            ...webhook,
            fields: [...webhook.fields],
            enabled: true,
            cursorVersion: org.version,
            failures: 0,
            nextAttemptAt: webhook.createdAt,
            updatedAt: webhook.createdAt,
          })
          .returning()
          .get();
        return { webhook: withoutLease(row) };
      },
      { behavior: 'immediate' },
    );
  }

  async getWebhook(id: string) {
    const row = this.db.select().from(webhooks).where(eq(webhooks.id, id)).get();
    return row ? withoutLease(row) : undefined;
  }

  async listWebhooks(orgId: string) {
    return this.db
      .select()
      .from(webhooks)
      .where(eq(webhooks.orgId, orgId))
      .orderBy(asc(webhooks.createdAt), asc(webhooks.id))
      .all()
      .map(withoutLease);
  }

  async updateWebhook(id: string, change: WebhookChange) {
    const { fields, ...rest } = change;
    const values = { ...rest, ...(fields ? { fields: [...fields] } : {}) };
    const row = this.db.update(webhooks).set(values).where(eq(webhooks.id, id)).returning().get();
    return row ? withoutLease(row) : undefined;
  }

  async deleteWebhook(id: string) {
    return this.db.transaction((tx) => {
      tx.delete(webhookDeliveries).where(eq(webhookDeliveries.webhookId, id)).run();
      return tx.delete(webhooks).where(eq(webhooks.id, id)).run().changes > 0;
    });
  }

  async claimDue(owner: string, now: Date, leaseUntil: Date, limit: number) {
    return this.db.transaction(
      (tx) => {
        const due = tx
          .select({ id: webhooks.id })
          .from(webhooks)
          .innerJoin(orgConfigs, eq(orgConfigs.orgId, webhooks.orgId))
          .where(
            and(
              eq(webhooks.enabled, true),
              lte(webhooks.nextAttemptAt, now),
              lt(webhooks.cursorVersion, orgConfigs.version),
              or(isNull(webhooks.leaseUntil), lt(webhooks.leaseUntil, now)),
            ),
          )
          .orderBy(asc(webhooks.nextAttemptAt))
          .limit(limit)
          .all();
        if (due.length === 0) return [];
        return tx
          .update(webhooks)
          .set({ leaseOwner: owner, leaseUntil })
          .where(
            inArray(
              webhooks.id,
              due.map((row) => row.id),
            ),
          )
          .returning()
          .all()
          .map(withoutLease);
      },
      { behavior: 'immediate' },
    );
  }

  async advance(id: string, owner: string, fromVersion: number, toVersion: number, leaseUntil: Date) {
    const row = this.db
      .update(webhooks)
      .set({ cursorVersion: toVersion, failures: 0, leaseUntil })
      .where(
        and(eq(webhooks.id, id), eq(webhooks.leaseOwner, owner), eq(webhooks.cursorVersion, fromVersion)),
      )
      .returning()
      .get();
    return row ? withoutLease(row) : undefined;
  }

  async fail(
    id: string,
    owner: string,
    state: { failures: number; nextAttemptAt: Date; disable: { reason: string; at: Date } | null },
  ) {
    const result = this.db
      .update(webhooks)
      .set({
        failures: state.failures,
        nextAttemptAt: state.nextAttemptAt,
        leaseOwner: null,
        leaseUntil: null,
        ...(state.disable
          ? { enabled: false, disabledReason: state.disable.reason, disabledAt: state.disable.at }
          : {}),
      })
      .where(and(eq(webhooks.id, id), eq(webhooks.leaseOwner, owner)))
      .run();
    return result.changes > 0;
  }

  async release(id: string, owner: string) {
    this.db
      .update(webhooks)
      .set({ leaseOwner: null, leaseUntil: null })
      .where(and(eq(webhooks.id, id), eq(webhooks.leaseOwner, owner)))
      .run();
  }

  async recordAttempt(attempt: Omit<DeliveryAttempt, 'id'>) {
    return this.db.insert(webhookDeliveries).values(attempt).returning().get();
  }

  async listAttempts(
    webhookId: string,
    options: { limit: number; beforeId?: number | null; version?: number | null },
  ) {
    return this.db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.webhookId, webhookId),
          options.beforeId == null ? undefined : lt(webhookDeliveries.id, options.beforeId),
          options.version == null ? undefined : eq(webhookDeliveries.version, options.version),
        ),
      )
      .orderBy(desc(webhookDeliveries.id))
      .limit(options.limit)
      .all();
  }

  async pruneAttempts(before: Date) {
    return this.db.delete(webhookDeliveries).where(lt(webhookDeliveries.attemptedAt, before)).run().changes;
  }
}
