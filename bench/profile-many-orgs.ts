// Reads spread over many organisations against the same reads of one (the R1 and G1 pairs of
// bench/run.ts), alone, for working on what a read costs as the number of organisations grows:
// req/s and the gateway's CPU µs per read, and with --cpu-prof where a read's time goes. On a shared
// machine both figures move by about 10 % from run to run: a change smaller than that needs more
// rounds, or a count that does not depend on the machine's load (callgrind).
//
// npm run bench:many-orgs -- [--orgs 10000] [--seconds 5] [--rounds 3] [--doors rest,graphql]
//                            [--variants default] [--cpu-prof DIR]
// Each variant (bench/variant-gateway.ts) runs two gateways, one per database; every measure
// alternates between them round by round. --cpu-prof writes each gateway's .cpuprofile into
// DIR/VARIANT-many or DIR/VARIANT-one (the largest file is the main thread).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cpuMs } from './process-stats.ts';
import { inTurn, readRequestOf } from './requests.ts';
import { option, profileDirOption } from './script-options.ts';
import { mean, medianRatio } from './stats.ts';
import {
  manyAndOneOrgDatabases,
  runBenchScript,
  startGateway,
  stop,
  variantLabel,
} from './variant-gateway.ts';

const orgCount = Number(option('orgs', '10000'));
const seconds = Number(option('seconds', '5'));
const rounds = Number(option('rounds', '3'));
const doors = option('doors', 'rest,graphql').split(',');
const variants = option('variants', 'default').split(',');
const profileDir = profileDirOption();
const connections = 50;

const work = mkdtempSync(join(tmpdir(), 'org-config-many-orgs-'));

interface Measured {
  rps: number;
  cpuUsPerRead: number;
  errors: number;
}

async function measure(
  url: string,
  child: ChildProcess,
  requests: autocannon.Request[],
  duration: number,
): Promise<Measured> {
  const before = cpuMs(child);
  const result = await autocannon({ url, connections, duration, requests });
  const cpu = cpuMs(child) - before;
  return {
    rps: result.requests.average,
    cpuUsPerRead: (cpu * 1000) / Math.max(result['2xx'], 1),
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function main(): Promise<void> {
  const { manyDb, oneDb, manyTargets, oneTargets } = await manyAndOneOrgDatabases(work, orgCount);
  for (const variant of variants) {
    const sides = [
      {
        name: `${orgCount} orgs`,
        ...(await startGateway(
          manyDb,
          variant,
          profileDir && join(profileDir, variantLabel(variant, 'many')),
        )),
        targets: manyTargets,
      },
      {
        name: '1 org',
        ...(await startGateway(oneDb, variant, profileDir && join(profileDir, variantLabel(variant, 'one')))),
        targets: oneTargets,
      },
    ];
    for (const door of doors) {
      // Warm-up: every organisation read once (the caches hold what the clients read), then a second of load.
      for (const side of sides) {
        await autocannon({
          url: side.url,
          connections,
          amount: Math.max(side.targets.length, connections),
          requests: inTurn(side.targets, readRequestOf[door]!),
        });
        await autocannon({
          url: side.url,
          connections,
          duration: 1,
          requests: inTurn(side.targets, readRequestOf[door]!),
        });
      }
      const measured = sides.map(() => [] as Measured[]);
      for (let round = 1; round <= rounds; round++) {
        for (const [index, side] of sides.entries()) {
          const row = await measure(
            side.url,
            side.child,
            inTurn(side.targets, readRequestOf[door]!),
            seconds,
          );
          measured[index]!.push(row);
          console.log(
            `${variant} ${door} ${side.name}, round ${round}: ${Math.round(row.rps)} req/s, ${row.cpuUsPerRead.toFixed(1)} CPU µs/read${row.errors ? `, ${row.errors} errors` : ''}`,
          );
        }
      }
      const [manyRows, oneRows] = measured as [Measured[], Measured[]];
      const rps = [manyRows.map((row) => row.rps), oneRows.map((row) => row.rps)] as const;
      const cpu = [manyRows.map((row) => row.cpuUsPerRead), oneRows.map((row) => row.cpuUsPerRead)] as const;
      console.log(
        `mean ${variant} ${door}: ${orgCount} orgs ${Math.round(mean(rps[0]))} req/s, ${mean(cpu[0]).toFixed(1)} µs/read | 1 org ${Math.round(mean(rps[1]))} req/s, ${mean(cpu[1]).toFixed(1)} µs/read | ` +
          `median of the rounds' ratios: req/s ${medianRatio(rps[0], rps[1]).toFixed(2)} ×, CPU per read ${medianRatio(cpu[0], cpu[1]).toFixed(2)} ×`,
      );
    }
    for (const side of sides) await stop(side.child);
  }
}

runBenchScript(main, work);
