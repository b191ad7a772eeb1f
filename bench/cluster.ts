// The benchmark with WORKERS=2: two gateway processes sharing the SQLite file and the port (node:cluster),
// the primary handing connections out in turn and counting the rate limits. Reported beside one process of the same run.
import type autocannon from 'autocannon';

export interface ClusterBenchTools<Started, Result extends { name: string }> {
  /** Starts the gateway on the benchmark's SQLite file with these settings added, once ready. */
  startGateway(env: Record<string, string>): Promise<Started>;
  stop(started: Started): Promise<void>;
  urlOf(started: Started): string;
  load(name: string, options: autocannon.Options): Promise<Result>;
  requests: {
    rest(): autocannon.Request;
    widget(): autocannon.Request;
    restPut(): autocannon.Request;
  };
  writesSeconds: number;
}

/** R1, G1 and W REST against one gateway of two workers, with the same load generator as the single-process runs. */
export async function benchCluster<Started, Result extends { name: string }>(
  tools: ClusterBenchTools<Started, Result>,
): Promise<Result[]> {
  const gateway = await tools.startGateway({ WORKERS: '2' });
  try {
    const url = tools.urlOf(gateway);
    return [
      await tools.load('WORKERS=2: R1 REST GET', { url, requests: [tools.requests.rest()] }),
      await tools.load('WORKERS=2: G1 GraphQL, 5 widget settings', {
        url,
        requests: [tools.requests.widget()],
      }),
      await tools.load('WORKERS=2: W REST PUT, one setting', {
        url,
        duration: tools.writesSeconds,
        requests: [tools.requests.restPut()],
      }),
    ];
  } finally {
    await tools.stop(gateway);
  }
}
