// Webhook endpoints and their delivery log in PostgreSQL: replicas claim endpoints with FOR UPDATE SKIP LOCKED and a lease row.
import { and, asc, count, desc, eq, inArray, isNull, lt, lte, or } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import {
  type DeliveryAttempt,
  type NewWebhook,
  type WebhookChange,
  type WebhookStore,
  withoutLease,
} from '../../webhooks/webhook-store.ts';
import { orgConfigs, webhookDeliveries, webhooks } from './schema.ts';

export class PostgresWebhookStore implements WebhookStore {
  private readonly db: NodePgDatabase;

  constructor(pool: pg.Pool) {
    this.db = drizzle({ client: pool });
  }

  async createWebhook(webhook: NewWebhook, maxPerOrg: number) {
    return this.db.transaction(async (tx) => {
      // The org's row locked: its version cannot move between reading it and the insert, and two
      // creations for one org cannot both pass the count.
      const [org] = await tx
        .select({ version: orgConfigs.version })
        .from(orgConfigs)
        .where(eq(orgConfigs.orgId, webhook.orgId))
        .for('update');
      if (!org) return { error: 'org-not-found' as const };
      const [existing] = await tx
        .select({ n: count() })
        .from(webhooks)
        .where(eq(webhooks.orgId, webhook.orgId));
      if ((existing?.n ?? 0) >= maxPerOrg) return { error: 'too-many' as const };
      const [row] = await tx
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
        .returning();
      return { webhook: withoutLease(row!) };
    });
  }

  async getWebhook(id: string) {
    const [row] = await this.db.select().from(webhooks).where(eq(webhooks.id, id));
    return row ? withoutLease(row) : undefined;
  }

  async listWebhooks(orgId: string) {
    const rows = await this.db
      .select()
      .from(webhooks)
      .where(eq(webhooks.orgId, orgId))
      .orderBy(asc(webhooks.createdAt), asc(webhooks.id));
    return rows.map(withoutLease);
  }

  async updateWebhook(id: string, change: WebhookChange) {
    const { fields, ...rest } = change;
    const values = { ...rest, ...(fields ? { fields: [...fields] } : {}) };
    const [row] = await this.db.update(webhooks).set(values).where(eq(webhooks.id, id)).returning();
    return row ? withoutLease(row) : undefined;
  }

  async deleteWebhook(id: string) {
    return this.db.transaction(async (tx) => {
      await tx.delete(webhookDeliveries).where(eq(webhookDeliveries.webhookId, id));
      const deleted = await tx.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
      return deleted.length > 0;
    });
  }

  /**
   * The due rows are locked with SKIP LOCKED: a replica claiming at the same moment passes over
   * them, and once this transaction commits their lease keeps every other replica away.
   */
  async claimDue(owner: string, now: Date, leaseUntil: Date, limit: number) {
    return this.db.transaction(async (tx) => {
      const due = await tx
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
        .for('update', { of: webhooks, skipLocked: true });
      if (due.length === 0) return [];
      const rows = await tx
        .update(webhooks)
        .set({ leaseOwner: owner, leaseUntil })
        .where(
          inArray(
            webhooks.id,
            due.map((row) => row.id),
          ),
        )
        .returning();
      return rows.map(withoutLease);
    });
  }

  async advance(id: string, owner: string, fromVersion: number, toVersion: number, leaseUntil: Date) {
    const [row] = await this.db
      .update(webhooks)
      .set({ cursorVersion: toVersion, failures: 0, leaseUntil })
      .where(
        and(eq(webhooks.id, id), eq(webhooks.leaseOwner, owner), eq(webhooks.cursorVersion, fromVersion)),
      )
      .returning();
    return row ? withoutLease(row) : undefined;
  }

  async fail(
    id: string,
    owner: string,
    state: { failures: number; nextAttemptAt: Date; disable: { reason: string; at: Date } | null },
  ) {
    const updated = await this.db
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
      .returning({ id: webhooks.id });
    return updated.length > 0;
  }

  async release(id: string, owner: string) {
    await this.db
      .update(webhooks)
      .set({ leaseOwner: null, leaseUntil: null })
      .where(and(eq(webhooks.id, id), eq(webhooks.leaseOwner, owner)));
  }

  async recordAttempt(attempt: Omit<DeliveryAttempt, 'id'>) {
    const [row] = await this.db.insert(webhookDeliveries).values(attempt).returning();
    return row!;
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
      .limit(options.limit);
  }

  async pruneAttempts(before: Date) {
    const deleted = await this.db
      .delete(webhookDeliveries)
      .where(lt(webhookDeliveries.attemptedAt, before))
      .returning({ id: webhookDeliveries.id });
    return deleted.length;
  }
}
