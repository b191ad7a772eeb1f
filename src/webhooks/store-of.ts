// The webhook store that shares a config store's database, when it has one (SQLite and PostgreSQL do).
import type { ConfigStore } from '../store/config-store.ts';
import type { WebhookStore } from './webhook-store.ts';

export function webhookStoreOf(store: ConfigStore): WebhookStore | null {
  const webhooks = (store as ConfigStore & { webhooks?: WebhookStore }).webhooks;
  return webhooks ?? null;
}
