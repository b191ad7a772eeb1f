// The webhook worker's counts are read by /metrics at each scrape.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../src/edge/metrics.ts';
import type { WebhookCounters } from '../src/webhooks/worker.ts';
import { registerWebhookMetrics } from '../src/webhooks/worker-metrics.ts';

describe('webhook metrics', () => {
  it('reports the attempts by result and the endpoints disabled, as they are at the scrape', async () => {
    const metrics = new Metrics();
    const counters: WebhookCounters = { delivered: 0, failed: 0, refused: 0, disabled: 0 };
    registerWebhookMetrics(metrics, counters);
    counters.delivered = 7;
    counters.failed = 2;
    counters.disabled = 1;
    const text = await metrics.text();
    expect(text).toContain('gateway_webhook_attempts_total{result="delivered"} 7');
    expect(text).toContain('gateway_webhook_attempts_total{result="failed"} 2');
    expect(text).toContain('gateway_webhook_attempts_total{result="refused"} 0');
    expect(text).toContain('gateway_webhook_endpoints_disabled_total 1');
    counters.delivered = 9;
    expect(await metrics.text()).toContain('gateway_webhook_attempts_total{result="delivered"} 9');
  });
});
