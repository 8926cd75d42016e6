// Long loops (the trainer, the autoencoder's training) and the event loop they must not starve.

/**
 * Lets the event loop run once (pending I/O, timers, signals). Long training loops await this every
 * step: a loop that never awaits starves a tslab kernel, whose stream messages then queue unsent; after
 * about 500 queued writes the kernel's stdout write throws, and the cell fails with no message (a cell
 * that blocked and wrote every 50 ms failed after 504 writes; the same loop awaiting this ran through
 * 1476). It also lets a kernel interrupt reach the process. Costs microseconds per step.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
