// What webhook delivery needs from storage: endpoints with their cursors and leases, and the log of attempts.

export interface WebhookRecord {
  /** wh_ and 16 hex digits. */
  readonly id: string;
  readonly orgId: string;
  readonly url: string;
  /** Setting or group paths the endpoint follows; empty: every change. */
  readonly fields: readonly string[];
  readonly secret: string;
  readonly previousSecret: string | null;
  readonly previousSecretUntil: Date | null;
  readonly enabled: boolean;
  readonly disabledReason: string | null;
  readonly disabledAt: Date | null;
  /** Every change up to this version of the organisation was delivered (or filtered out). */
  readonly cursorVersion: number;
  /** Failed attempts at the next change. */
  readonly failures: number;
  /** Not tried before this time (a retry's backoff). */
  readonly nextAttemptAt: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface DeliveryAttempt {
  readonly id: number;
  readonly webhookId: string;
  readonly orgId: string;
  readonly version: number;
  readonly messageId: string;
  /** 1 for the first attempt at this change, counting retries (a manual redelivery counts apart). */
  readonly attempt: number;
  readonly manual: boolean;
  readonly attemptedAt: Date;
  readonly durationMs: number;
  readonly status: number | null;
  readonly error: string | null;
  readonly excerpt: string | null;
  readonly delivered: boolean;
}

export type NewWebhook = Pick<WebhookRecord, 'id' | 'orgId' | 'url' | 'fields' | 'secret'> & {
  readonly createdAt: Date;
};

/** What an admin may change of an endpoint (the worker's state is changed through the lease methods). */
export type WebhookChange = Partial<
  Pick<
    WebhookRecord,
    | 'url'
    | 'fields'
    | 'secret'
    | 'previousSecret'
    | 'previousSecretUntil'
    | 'enabled'
    | 'disabledReason'
    | 'disabledAt'
    | 'failures'
    | 'nextAttemptAt'
  >
> & { readonly updatedAt: Date };

export interface WebhookStore {
  /**
   * Creates an endpoint whose cursor is the organisation's current version, read in the same
   * transaction; undefined when the organisation does not exist. Refused (undefined count) past `maxPerOrg`.
   */
  createWebhook(
    webhook: NewWebhook,
    maxPerOrg: number,
  ): Promise<{ webhook: WebhookRecord } | { error: 'org-not-found' | 'too-many' }>;
  getWebhook(id: string): Promise<WebhookRecord | undefined>;
  listWebhooks(orgId: string): Promise<WebhookRecord[]>;
  updateWebhook(id: string, change: WebhookChange): Promise<WebhookRecord | undefined>;
  /** Deletes the endpoint and its log. */
  deleteWebhook(id: string): Promise<boolean>;

  /**
   * Leases to `owner` until `leaseUntil` up to `limit` enabled endpoints that are due at `now`, are
   * behind their organisation's version and are not leased by anyone (or whose lease ran out).
   * Concurrent callers (other processes, other replicas) never get the same endpoint.
   */
  claimDue(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<WebhookRecord[]>;
  /**
   * Moves the cursor from `fromVersion` to `toVersion`, clears the failures and renews the lease,
   * only while `owner` holds it and the cursor has not moved: answers the endpoint as it is now, or
   * undefined when the lease was lost (or the endpoint deleted).
   */
  advance(
    id: string,
    owner: string,
    fromVersion: number,
    toVersion: number,
    leaseUntil: Date,
  ): Promise<WebhookRecord | undefined>;
  /** Records a failed attempt while `owner` holds the lease, and lets go of it; disables the endpoint when `disable` says why. */
  fail(
    id: string,
    owner: string,
    state: { failures: number; nextAttemptAt: Date; disable: { reason: string; at: Date } | null },
  ): Promise<boolean>;
  /** Lets go of the lease, if `owner` holds it. */
  release(id: string, owner: string): Promise<void>;

  recordAttempt(attempt: Omit<DeliveryAttempt, 'id'>): Promise<DeliveryAttempt>;
  /** The endpoint's attempts, newest first, below `beforeId` when given, of one version when given. */
  listAttempts(
    webhookId: string,
    options: { limit: number; beforeId?: number | null; version?: number | null },
  ): Promise<DeliveryAttempt[]>;
  /** Deletes the attempts made before `before`; answers how many. */
  pruneAttempts(before: Date): Promise<number>;
}

/** An endpoint's row as the service sees it: the lease is the stores' own business. */
export function withoutLease<Row extends WebhookRecord & { leaseOwner: unknown; leaseUntil: unknown }>(
  row: Row,
): WebhookRecord {
  const { leaseOwner: _owner, leaseUntil: _until, ...record } = row;
  return record;
}
