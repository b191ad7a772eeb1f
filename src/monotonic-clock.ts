// Whole milliseconds of this process's monotonic clock (it never jumps with the wall clock), for the
// expiry times read at every request: an integer, which V8 keeps unboxed in an object's field
// for a process's first 24 days or so (a double such as Date.now() is boxed in a heap number).
export const monotonicMs = (): number => Math.floor(performance.now());
