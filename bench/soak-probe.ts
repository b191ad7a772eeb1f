// Loaded by the soak alone (`node --expose-gc --import tsx --import ./bench/soak-probe.ts src/main.ts`),
// never by the gateway's own code: asked "memory" over the IPC channel the soak opened, it forces a
// full garbage collection and answers process.memoryUsage(). A gateway started any other way has
// neither the channel nor this module, so nothing of it can be reached in production.
const gc = (globalThis as { gc?: () => void }).gc;

if (typeof process.send === 'function' && gc) {
  process.on('message', (message) => {
    if (message !== 'memory') return;
    gc();
    process.send!({ memory: process.memoryUsage() });
  });
  // The channel must not keep the gateway alive once it stops (SIGTERM).
  process.channel?.unref();
}
