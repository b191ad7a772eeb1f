// Managing an organisation's webhook endpoints (admin keys): create, change, rotate, disable, delete, read the log, redeliver.
import { randomBytes } from 'node:crypto';
import type { Actor } from '../auth/actor.ts';
import { ConfigValidationError, OrgNotFoundError, VersionNotFoundError } from '../config/errors.ts';
import { unknownFieldProblems } from '../config/followed-fields.ts';
import type { Problem } from '../config/problems.ts';
import { ProblemCode } from '../config/rules.ts';
import type { ConfigService } from '../config/service.ts';
import type { ConfigStore } from '../store/config-store.ts';
import { AddressRefusedError, checkWebhookUrl } from './address-policy.ts';
import { attemptDelivery, type DeliveryDeps } from './delivery.ts';
import { WebhookNotFoundError } from './errors.ts';
import { newSigningSecret } from './signing.ts';
import type { DeliveryAttempt, WebhookRecord, WebhookStore } from './webhook-store.ts';

export interface WebhookServiceOptions extends Omit<DeliveryDeps, 'store'> {
  /** Endpoints one organisation may have. */
  readonly maxPerOrg?: number;
  /** How long the previous secret still signs after a rotation. */
  readonly rotationOverlapMs?: number;
}

export const defaultMaxWebhooksPerOrg = 25;
export const defaultRotationOverlapMs = 24 * 3_600_000;
export const maxFollowedFields = 50;
export const maxDeliveryPage = 100;

export interface CreateWebhookRequest {
  readonly orgId: string;
  readonly url: string;
  readonly fields?: readonly string[] | null;
}

export interface UpdateWebhookRequest {
  readonly id: string;
  readonly url?: string | null;
  readonly fields?: readonly string[] | null;
  /** False disables (no delivery until enabled again); true enables, resuming after the last change delivered. */
  readonly enabled?: boolean | null;
  /** A new secret signs from now on; the previous one also signs during the overlap. */
  readonly rotateSecret?: boolean | null;
}

/** An endpoint and, right after creation or a rotation, its secret: the only time it is shown. */
export interface WebhookWithSecret {
  readonly webhook: WebhookRecord;
  readonly secret: string | null;
}

/** The id clients cache an endpoint by, unique across types: Webhook:wh_…; the plain wh_… is accepted too. */
export const webhookGlobalId = (id: string) => `Webhook:${id}`;
export const webhookIdOf = (id: string) => id.replace(/^Webhook:/, '');

export class WebhookService {
  private readonly maxPerOrg: number;
  private readonly rotationOverlapMs: number;

  constructor(
    private readonly store: WebhookStore,
    /** Who may manage an organisation's endpoints is who may change its configuration (admin keys). */
    private readonly config: ConfigService,
    private readonly revisions: Pick<ConfigStore, 'getRevision' | 'getConfig'>,
    private readonly options: WebhookServiceOptions,
  ) {
    this.maxPerOrg = options.maxPerOrg ?? defaultMaxWebhooksPerOrg;
    this.rotationOverlapMs = options.rotationOverlapMs ?? defaultRotationOverlapMs;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** Creates an endpoint that receives every change after the current version. */
  async create(actor: Actor | null, request: CreateWebhookRequest): Promise<WebhookWithSecret> {
    this.config.authorizeAdmin(actor, request.orgId);
    const url = this.checkUrl(request.url);
    const fields = this.checkFields(request.fields ?? []);
    const secret = newSigningSecret();
    const created = await this.store.createWebhook(
      {
        id: `wh_${randomBytes(8).toString('hex')}`,
        orgId: request.orgId,
        url,
        fields,
        secret,
        createdAt: this.now(),
      },
      this.maxPerOrg,
    );
    if ('error' in created) {
      if (created.error === 'org-not-found') throw new OrgNotFoundError(request.orgId);
      throw new ConfigValidationError([
        {
          path: ['orgId'],
          message: `an organisation has at most ${this.maxPerOrg} webhooks`,
          code: ProblemCode.TOO_MANY_ITEMS,
        },
      ]);
    }
    return { webhook: created.webhook, secret };
  }

  async update(actor: Actor | null, request: UpdateWebhookRequest): Promise<WebhookWithSecret> {
    const current = await this.authorized(actor, request.id);
    const now = this.now();
    const url = request.url == null ? undefined : this.checkUrl(request.url);
    const fields = request.fields == null ? undefined : this.checkFields(request.fields);
    const secret = request.rotateSecret ? newSigningSecret() : null;
    const enabling = request.enabled === true && !current.enabled;
    const disabling = request.enabled === false && current.enabled;
    const updated = await this.store.updateWebhook(current.id, {
      updatedAt: now,
      ...(url === undefined ? {} : { url }),
      ...(fields === undefined ? {} : { fields }),
      ...(secret
        ? {
            secret,
            previousSecret: current.secret,
            previousSecretUntil: new Date(now.getTime() + this.rotationOverlapMs),
          }
        : {}),
      // Enabled again: the change after the cursor is tried at once, as if for the first time.
      ...(enabling
        ? { enabled: true, disabledReason: null, disabledAt: null, failures: 0, nextAttemptAt: now }
        : {}),
      ...(disabling ? { enabled: false, disabledReason: 'disabled by an admin', disabledAt: now } : {}),
    });
    if (!updated) throw new WebhookNotFoundError(request.id);
    return { webhook: updated, secret };
  }

  async delete(actor: Actor | null, id: string): Promise<WebhookRecord> {
    const current = await this.authorized(actor, id);
    if (!(await this.store.deleteWebhook(current.id))) throw new WebhookNotFoundError(id);
    return current;
  }

  async list(actor: Actor | null, orgId: string): Promise<WebhookRecord[]> {
    this.config.authorizeAdmin(actor, orgId);
    if (!(await this.revisions.getConfig(orgId))) throw new OrgNotFoundError(orgId);
    return this.store.listWebhooks(orgId);
  }

  async get(actor: Actor | null, id: string): Promise<WebhookRecord> {
    return this.authorized(actor, id);
  }

  /** The endpoint's attempts, newest first. */
  async deliveries(
    actor: Actor | null,
    id: string,
    page: { first: number; beforeId?: number | null; version?: number | null },
  ): Promise<DeliveryAttempt[]> {
    const webhook = await this.authorized(actor, id);
    return this.store.listAttempts(webhook.id, {
      limit: Math.min(Math.max(page.first, 0), maxDeliveryPage),
      beforeId: page.beforeId,
      version: page.version,
    });
  }

  /**
   * Sends one change again, now, from this process: outside the endpoint's ordered stream (its
   * cursor does not move), with the same webhook-id as before so the receiver can tell.
   */
  async redeliver(actor: Actor | null, id: string, version: number): Promise<DeliveryAttempt> {
    const webhook = await this.authorized(actor, id);
    const revision = await this.revisions.getRevision(webhook.orgId, version);
    if (!revision) throw new VersionNotFoundError(webhook.orgId, version);
    return attemptDelivery({ ...this.options, store: this.store }, webhook, revision, {
      attempt: 1,
      manual: true,
    });
  }

  /** The endpoint, when the actor is an admin of its organisation; WebhookNotFound otherwise. */
  private async authorized(actor: Actor | null, id: string): Promise<WebhookRecord> {
    const webhook = await this.store.getWebhook(webhookIdOf(id));
    if (!webhook) {
      // Anonymous callers are told to authenticate, not whether the id exists.
      if (!actor) this.config.authorizeAdmin(actor, '');
      throw new WebhookNotFoundError(id);
    }
    try {
      this.config.authorizeAdmin(actor, webhook.orgId);
    } catch (error) {
      if (error instanceof OrgNotFoundError) throw new WebhookNotFoundError(id);
      throw error;
    }
    return webhook;
  }

  private checkUrl(text: string): string {
    try {
      return checkWebhookUrl(text, this.options.policy).href;
    } catch (error) {
      if (!(error instanceof AddressRefusedError)) throw error;
      throw new ConfigValidationError([{ path: ['url'], message: error.message, code: error.code }]);
    }
  }

  private checkFields(fields: readonly string[]): string[] {
    const problems: Problem[] = unknownFieldProblems(fields, 'fields');
    if (fields.length > maxFollowedFields)
      problems.push({
        path: ['fields'],
        message: `at most ${maxFollowedFields} paths`,
        code: ProblemCode.TOO_MANY_ITEMS,
      });
    if (problems.length > 0) throw new ConfigValidationError(problems);
    return [...new Set(fields)];
  }
}
