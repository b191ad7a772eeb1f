// The webhook service's options and the delivery worker, from the settings (WEBHOOK_*).
import type { ChangeEvents } from '../events/change-feed.ts';
import type { WebhookSettings } from '../settings.ts';
import type { ConfigStore } from '../store/config-store.ts';
import { defaultSendLimits } from './sender.ts';
import type { WebhookServiceOptions } from './service.ts';
import { webhookStoreOf } from './store-of.ts';
import { WebhookWorker, type WebhookWorkerOptions } from './worker.ts';

export function webhookServiceOptions(settings: WebhookSettings): WebhookServiceOptions {
  return {
    policy: settings.policy,
    maxPerOrg: settings.maxPerOrg,
    limits: { ...defaultSendLimits, timeoutMs: settings.timeoutMs },
  };
}

/**
 * Starts the delivery worker on the store's database, woken by the change feed; null when the
 * settings turn delivery off here or the store keeps no webhooks.
 */
export function startWebhookWorker(
  store: ConfigStore,
  events: ChangeEvents,
  settings: WebhookSettings,
  options: Pick<WebhookWorkerOptions, 'onError' | 'onEvent'> = {},
): WebhookWorker | null {
  const webhooks = webhookStoreOf(store);
  if (!settings.delivery || !webhooks) return null;
  return new WebhookWorker(webhooks, store, {
    ...webhookServiceOptions(settings),
    retry: settings.retry,
    concurrency: settings.concurrency,
    pollIntervalMs: settings.pollIntervalMs,
    logRetentionMs: settings.logRetentionMs,
    ...options,
  }).start(events);
}
