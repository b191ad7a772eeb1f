// The gateway's metrics, per gateway (not module-global), in Prometheus text through prom-client.
// Labels never carry an organisation, a key or an operation's text: only small fixed sets.
import { Counter, Gauge, Histogram, type MetricValue, Registry } from 'prom-client';

export const doors = ['rest', 'graphql', 'websocket', 'sse', 'widget'] as const;
export type Door = (typeof doors)[number];
export const operationTypes = ['query', 'mutation', 'subscription', 'none'] as const;
export type OperationType = (typeof operationTypes)[number];
const statusClasses = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Latency buckets in seconds: answers from memory take well under a millisecond, writes a few. */
const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class Metrics {
  readonly registry = new Registry();
  /**
   * Requests by door, plan, status class and operation type, counted in a flat array on the hot
   * path (no labels object, no string per request) and handed to prom-client when scraped.
   */
  private readonly requestCounts = new Float64Array(
    doors.length * 2 * statusClasses.length * operationTypes.length,
  );
  /** Latency by door and plan, counted in flat arrays on the hot path (prom-client's histograms build a labels object per observation). */
  private readonly latency = new FlatHistogram(latencyBuckets, doors.length * 2);
  private readonly refusals: Counter<'limit'>;
  private readonly changeFeedLag: Histogram;
  /** Live subscriptions by transport, kept by the doors that serve them. */
  readonly subscribers = { sse: 0, websocket: 0 };

  constructor() {
    const counts = this.requestCounts;
    this.counter({
      name: 'gateway_requests_total',
      help: 'Requests answered, by door, whether a compiled plan answered, status class and operation type.',
      labelNames: ['door', 'plan', 'status', 'operation'],
      collect() {
        this.reset();
        counts.forEach((count, index) => {
          if (count === 0) return;
          const operation = operationTypes[index % operationTypes.length]!;
          const rest = Math.floor(index / operationTypes.length);
          const status = statusClasses[rest % statusClasses.length]!;
          const plan = Math.floor(rest / statusClasses.length) % 2 === 1 ? 'yes' : 'no';
          const door = doors[Math.floor(rest / statusClasses.length / 2)]!;
          this.inc({ door, plan, status, operation }, count);
        });
      },
    });
    const latency = this.latency;
    const latencyHelp =
      'Time from a request reaching the edge to its answer being written, by door and plan.';
    this.registry.registerMetric({
      name: 'gateway_request_duration_seconds',
      help: latencyHelp,
      type: 'histogram',
      aggregator: 'sum',
      get: async () =>
        latency.values('gateway_request_duration_seconds', latencyHelp, (series) => ({
          door: doors[Math.floor(series / 2)]!,
          plan: series % 2 === 1 ? 'yes' : 'no',
        })),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
    this.refusals = this.counter({
      name: 'gateway_rate_limit_refusals_total',
      help: 'Requests and connections refused for a rate limit: per key, or per address sending unknown keys.',
      labelNames: ['limit'],
    });
    const subscribers = this.subscribers;
    this.gauge({
      name: 'gateway_subscribers',
      help: 'Live subscriptions, by transport.',
      labelNames: ['transport'],
      collect() {
        this.set({ transport: 'sse' }, subscribers.sse);
        this.set({ transport: 'websocket' }, subscribers.websocket);
      },
    });
    this.changeFeedLag = new Histogram({
      name: 'gateway_change_feed_lag_seconds',
      help: 'From a change committed to its event handed to a subscriber.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  /** A counter registered in this gateway's registry: one call adds a metric (webhook deliveries, say). */
  counter<T extends string>(options: ConstructorParameters<typeof Counter<T>>[0]): Counter<T> {
    return new Counter<T>({ ...options, registers: [this.registry] });
  }

  /** A gauge, set as things happen or by its `collect` when scraped. */
  gauge<T extends string>(options: ConstructorParameters<typeof Gauge<T>>[0]): Gauge<T> {
    return new Gauge<T>({ ...options, registers: [this.registry] });
  }

  /** One answered request. */
  answered(door: Door, planned: boolean, status: number, operation: OperationType, seconds: number): void {
    const statusIndex = Math.min(Math.max(Math.floor(status / 100) - 1, 0), statusClasses.length - 1);
    const doorIndex = doors.indexOf(door);
    const index =
      ((doorIndex * 2 + (planned ? 1 : 0)) * statusClasses.length + statusIndex) * operationTypes.length +
      operationTypes.indexOf(operation);
    this.requestCounts[index]! += 1;
    this.latency.observe(doorIndex * 2 + (planned ? 1 : 0), seconds);
  }

  refused(limit: 'per-key' | 'per-address'): void {
    this.refusals.inc({ limit });
  }

  delivered(lagSeconds: number): void {
    this.changeFeedLag.observe(Math.max(0, lagSeconds));
  }

  /** The Prometheus text of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** A histogram of several series (by index), its counts in typed arrays, read out in prom-client's shape when scraped. */
class FlatHistogram {
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;
  private readonly totals: Float64Array;

  constructor(
    private readonly bounds: readonly number[],
    private readonly series: number,
  ) {
    this.counts = new Float64Array(series * bounds.length);
    this.sums = new Float64Array(series);
    this.totals = new Float64Array(series);
  }

  observe(series: number, value: number): void {
    const { bounds } = this;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    if (bucket < bounds.length) this.counts[series * bounds.length + bucket]! += 1;
    this.sums[series]! += value;
    this.totals[series]! += 1;
  }

  /** The values of every series observed at least once: cumulative buckets, +Inf, sum and count. */
  values(
    name: string,
    help: string,
    labelsOf: (series: number) => Record<string, string>,
  ): { name: string; help: string; type: string; aggregator: string; values: MetricValue<string>[] } {
    const values: MetricValue<string>[] = [];
    for (let series = 0; series < this.series; series++) {
      if (this.totals[series] === 0) continue;
      const labels = labelsOf(series);
      let cumulative = 0;
      this.bounds.forEach((bound, bucket) => {
        cumulative += this.counts[series * this.bounds.length + bucket]!;
        values.push({
          labels: { ...labels, le: bound },
          value: cumulative,
          metricName: `${name}_bucket`,
        } as MetricValue<string>);
      });
      values.push({
        labels: { ...labels, le: '+Inf' },
        value: this.totals[series]!,
        metricName: `${name}_bucket`,
      } as MetricValue<string>);
      values.push({ labels, value: this.sums[series]!, metricName: `${name}_sum` } as MetricValue<string>);
      values.push({
        labels,
        value: this.totals[series]!,
        metricName: `${name}_count`,
      } as MetricValue<string>);
    }
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  }
}
