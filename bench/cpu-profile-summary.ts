// Where a .cpuprofile (node --cpu-prof) spent its time: the top functions by self time, and the
// time under chosen functions (their callees included), as shares of the busy (non-idle) time.
//
// node --import tsx bench/cpu-profile-summary.ts FILE.cpuprofile [--top 40] [--under name1,name2,...]
//                                              [--segments GAP_MS [--segment K]]
// --segments lists the busy stretches between idle ones of at least GAP_MS and summarises the K-th
// (counted from 0; negative from the end; default the busiest).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2]!;
const topIndex = process.argv.indexOf('--top');
const top = topIndex > 0 ? Number(process.argv[topIndex + 1]) : 40;
const underIndex = process.argv.indexOf('--under');
const underNames = underIndex > 0 ? process.argv[underIndex + 1]!.split(',') : [];

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const gapIndex = process.argv.indexOf('--segments');
if (gapIndex > 0) keepSegment(Number(process.argv[gapIndex + 1]) * 1000);

/** Keeps only the samples of one busy stretch (see --segments). */
function keepSegment(gapMicros: number): void {
  const idleIds = new Set(
    profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id),
  );
  const segments: { from: number; to: number; busy: number; at: number }[] = [];
  let current: { from: number; to: number; busy: number; at: number } | null = null;
  let idleRun = 0;
  let clock = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    clock += delta;
    if (idleIds.has(id)) {
      idleRun += delta;
      if (idleRun >= gapMicros && current) {
        segments.push(current);
        current = null;
      }
      return;
    }
    idleRun = 0;
    if (!current) current = { from: index, to: index, busy: 0, at: clock };
    current.to = index;
    current.busy += delta;
  });
  if (current) segments.push(current);
  for (const [index, segment] of segments.entries()) {
    console.log(
      `segment ${index}: at ${(segment.at / 1000).toFixed(0)} ms, busy ${(segment.busy / 1000).toFixed(0)} ms`,
    );
  }
  const chosenIndex = process.argv.indexOf('--segment');
  const busiest = segments.reduce(
    (best, segment, index) => (segment.busy > segments[best]!.busy ? index : best),
    0,
  );
  const k = chosenIndex > 0 ? Number(process.argv[chosenIndex + 1]) : busiest;
  const chosen = segments.at(k)!;
  console.log(`summarising segment ${k < 0 ? segments.length + k : k}\n`);
  profile.samples = profile.samples.slice(chosen.from, chosen.to + 1);
  profile.timeDeltas = profile.timeDeltas.slice(chosen.from, chosen.to + 1);
}
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const selfTime = new Map<number, number>();
for (const [index, id] of profile.samples.entries()) {
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
}

const label = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/src\//, 'src/');
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
};
const idle = new Set(['(idle)', '(program)', '(garbage collector)']);
let busy = 0;
let total = 0;
const bySelf = new Map<string, number>();
for (const [id, time] of selfTime) {
  const node = byId.get(id)!;
  total += time;
  if (node.callFrame.functionName !== '(idle)') busy += time;
  const key = idle.has(node.callFrame.functionName) ? node.callFrame.functionName : label(node);
  bySelf.set(key, (bySelf.get(key) ?? 0) + time);
}
const percent = (time: number) => `${((time / busy) * 100).toFixed(1).padStart(5)}%`;
console.log(`busy ${(busy / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms`);
console.log('\nself time:');
for (const [key, time] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${percent(time)}  ${key}`);

if (underNames.length > 0) {
  console.log('\ntime under (callees included, each sample counted once per name):');
  for (const name of underNames) {
    let time = 0;
    for (const [id, self] of selfTime) {
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const node = byId.get(at)!;
        if (node.callFrame.functionName === name || label(node).includes(name)) {
          time += self;
          break;
        }
      }
    }
    console.log(`${percent(time)}  ${name}`);
  }
}
