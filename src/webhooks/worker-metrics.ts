// The webhook worker's counts as a metric of the gateway (/metrics): attempts by result, endpoints disabled.
import type { Metrics } from '../edge/metrics.ts';
import type { WebhookCounters } from './worker.ts';

export function registerWebhookMetrics(metrics: Metrics, counters: Readonly<WebhookCounters>): void {
  metrics.counter({
    name: 'gateway_webhook_attempts_total',
    help: 'Webhook delivery attempts of this process, by result: delivered (2xx), failed (retried), refused (address not allowed).',
    labelNames: ['result'],
    collect() {
      this.reset();
      this.inc({ result: 'delivered' }, counters.delivered);
      this.inc({ result: 'failed' }, counters.failed);
      this.inc({ result: 'refused' }, counters.refused);
    },
  });
  metrics.counter({
    name: 'gateway_webhook_endpoints_disabled_total',
    help: 'Webhook endpoints this process disabled after repeated failure.',
    collect() {
      this.reset();
      this.inc(counters.disabled);
    },
  });
}
