import { Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { PoolLoad } from "./jobs/thread-pool.js";

/** How a job's run in this process ended. */
export type JobOutcome = "succeeded" | "failed" | "retried" | "interrupted";

export interface MetricSources {
  /** queued and running jobs of the whole cluster, read when scraped */
  activeJobs(): Promise<{ queued: number; running: number }>;
  modelThreads(): PoolLoad;
  imageThreads(): PoolLoad;
}

const JOB_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
const REQUEST_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * What an operator watches (Prometheus text at /metrics, when METRICS_TOKEN is set): the process
 * (CPU, memory, event-loop delay, garbage collection), requests by route and status, tool runs by
 * tool and outcome, the job queue, and the model and image threads. Labels are route templates,
 * tool names and statuses only: nothing of a visitor, an image or a job id (P19).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<"method" | "route" | "status">;
  private readonly jobRuns: Histogram<"tool" | "outcome">;

  /** Made only when /metrics is served: without it nothing is counted. */
  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "pixhaven_" });
    this.requests = new Histogram({ name: "pixhaven_http_request_seconds", help: "HTTP requests answered, by route template, method and status", labelNames: ["method", "route", "status"], buckets: REQUEST_SECONDS, registers });
    this.jobRuns = new Histogram({ name: "pixhaven_job_run_seconds", help: "Tool runs of jobs in this process, from claim to end, by tool and outcome", labelNames: ["tool", "outcome"], buckets: JOB_SECONDS, registers });
    new Gauge({
      name: "pixhaven_jobs",
      help: "Jobs of the whole cluster now, by status (queued, running)",
      labelNames: ["status"],
      registers,
      async collect() {
        const { queued, running } = await sources.activeJobs();
        this.set({ status: "queued" }, queued);
        this.set({ status: "running" }, running);
      },
    });
    for (const [pool, what, load] of [
      ["model", "model threads (MODEL_WORKERS)", sources.modelThreads],
      ["image", "image threads (decoding and metadata)", sources.imageThreads],
    ] as const) {
      new Gauge({
        name: `pixhaven_${pool}_threads`,
        help: `This process's ${what} by state: busy, idle (started, waiting), or size (the most it starts)`,
        labelNames: ["state"],
        registers,
        collect() {
          const now = load();
          this.set({ state: "busy" }, now.busy);
          this.set({ state: "idle" }, now.started - now.busy);
          this.set({ state: "size" }, now.size);
        },
      });
      new Gauge({
        name: `pixhaven_${pool}_tasks_queued`,
        help: `Tasks waiting for one of this process's ${what}`,
        registers,
        collect() {
          this.set(load().queued);
        },
      });
    }
  }

  request(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe({ method, route, status: String(status) }, seconds);
  }

  jobRun(tool: string, outcome: JobOutcome, seconds: number): void {
    this.jobRuns.observe({ tool, outcome }, seconds);
  }

  /** The text Prometheus scrapes. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
