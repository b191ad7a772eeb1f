// GET /metrics: this gateway's metrics in Prometheus text, for a scraper holding METRICS_TOKEN as a
// bearer token. Without a token set, there is no /metrics (it passes on, and is not found).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Answerer } from './edge.ts';
import type { Metrics } from './metrics.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function metricsAnswerer(metrics: Metrics, token: string | null | undefined): Answerer {
  if (!token) return () => undefined;
  const expected = digest(`Bearer ${token}`);
  return async (request) => {
    if (request.path !== '/metrics') return undefined;
    const given = request.req.headers.authorization;
    // Compared as digests of equal length, in constant time.
    if (!given || !timingSafeEqual(digest(given), expected)) {
      return {
        status: 401,
        headers: {
          'www-authenticate': 'Bearer realm="metrics"',
          'content-type': 'text/plain; charset=utf-8',
        },
        body: 'the metrics need the bearer token of METRICS_TOKEN\n',
      };
    }
    if (request.req.method !== 'GET' && request.req.method !== 'HEAD')
      return {
        status: 405,
        headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' },
        body: '',
      };
    return {
      status: 200,
      headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' },
      body: await metrics.text(),
    };
  };
}
