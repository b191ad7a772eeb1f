// The S scenarios alone, for working on the fan-out: one change to many subscribers, the time
// until each had it and the gateway's CPU ms for the change (less disturbed by a shared machine).
//
// npm run bench:fanout -- [--subscribers 10000] [--doors sse,ws] [--rounds 2] [--changes 5] [--variants default,S0,@../other-checkout]
//                         [--cpu-prof DIR]
// Variants (bench/variant-gateway.ts, and S0: bench/bare-fanout-server.ts, the ceiling) alternate
// round by round, each on a fresh gateway and a fresh copy of the same database. --cpu-prof writes the .cpuprofile of each gateway into DIR/VARIANT-ROUND-DOOR/,
// with half a second of quiet before and after the change: bench/cpu-profile-summary.ts --segments 300 finds it.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FanOutResult, sseFanOut, wsFanOut } from './fanout.ts';
import { option, profileDirOption } from './script-options.ts';
import { mean } from './stats.ts';
import {
  buildDatabase,
  runBenchScript,
  startGateway,
  startProcess,
  stop,
  variantLabel,
} from './variant-gateway.ts';

const subscribers = Number(option('subscribers', '10000'));
const rounds = Number(option('rounds', '1'));
const changes = Number(option('changes', '1'));
const variants = option('variants', 'default').split(',');
const doors = option('doors', 'sse,ws').split(',');
const profileDir = profileDirOption();
const work = mkdtempSync(join(tmpdir(), 'org-config-fanout-'));

const startBareServer = () => startProcess(['--import', 'tsx', 'bench/bare-fanout-server.ts'], {});

async function main(): Promise<void> {
  const template = join(work, 'template.db');
  const key = await buildDatabase(template);
  const results = new Map<string, FanOutResult[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      for (const door of doors) {
        const label = `${variantLabel(variant, round)}-${door}`;
        const database = join(work, `${label}.db`);
        copyFileSync(template, database);
        const gateway =
          variant === 'S0'
            ? await startBareServer()
            : await startGateway(database, variant, profileDir && join(profileDir, label));
        const run = door === 'ws' ? wsFanOut : sseFanOut;
        const row = await run(
          gateway,
          key,
          subscribers,
          { current: 1 },
          { changes, quietMs: profileDir ? 500 : 0 },
        );
        await stop(gateway.child);
        const name = `${variant} ${door}`;
        results.set(name, [...(results.get(name) ?? []), row]);
        console.log(
          `round ${round} ${name}: p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, server CPU ${row.serverCpuMs} ms, ${(row.bytesPerSubscriber / 1024).toFixed(1)} KiB/subscriber`,
        );
      }
    }
  }
  if (rounds > 1) {
    for (const [name, rows] of results) {
      console.log(
        `mean ${name}: p99 ${mean(rows.map((row) => row.p99)).toFixed(1)} ms, server CPU ${Math.round(mean(rows.map((row) => row.serverCpuMs)))} ms`,
      );
    }
  }
}

runBenchScript(main, work);
