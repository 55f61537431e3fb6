/** How the benchmarks time a task run many times over, several at once. */

export interface Run {
  perSecond: number;
  p50: number;
  p99: number;
  /** each run's milliseconds, sorted */
  latencies: number[];
}

/** The value below which a fraction `q` of the sorted `values` lie. */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Runs `task` `count` times, `concurrency` at a time: runs per second and latency quantiles. */
export async function measure(count: number, concurrency: number, task: () => Promise<void>): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) {
        const t0 = performance.now();
        await task();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: count / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), latencies };
}

/** /healthz every 20 ms until stopped: a blocked event loop shows here. */
export function probeHealth(port: number) {
  const latencies: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t0 = performance.now();
      await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.arrayBuffer());
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    latencies,
    async stop() {
      running = false;
      await done;
    },
  };
}
