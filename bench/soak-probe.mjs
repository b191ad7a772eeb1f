// Loaded by the soak alone (`node --expose-gc --import ./bench/soak-probe.mjs dist/main.js`)
// and by test/memory-bound.test.ts, never by the gateway's own code: asked "memory" over the IPC
// channel they opened, it forces a full garbage collection and answers process.memoryUsage(), then
// forces the collection V8 makes when memory runs low (which also drops its compilation cache, the
// code of functions made from source text, such as graphql-jit's compiled plans) and answers that
// too, as `reduced`. A gateway started any other way has neither the channel nor this module, so
// nothing of it can be reached in production.
import { Session } from 'node:inspector';

/** Set by --expose-gc. Plain JavaScript, so that a gateway from the bundle needs no TypeScript loader. */
const gc = globalThis.gc;

if (typeof process.send === 'function' && gc) {
  // In-process: V8's own low-memory notification, as the heap profiler forces it.
  const session = new Session();
  session.connect();
  process.on('message', (message) => {
    if (message !== 'memory') return;
    gc();
    const memory = process.memoryUsage();
    session.post('HeapProfiler.collectGarbage', () => {
      process.send({ memory, reduced: process.memoryUsage() });
    });
  });
  // The channel must not keep the gateway alive once it stops (SIGTERM).
  process.channel?.unref();
}
