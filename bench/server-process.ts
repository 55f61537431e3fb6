/**
 * A Pixhaven server in a process of its own, started as `npm start` runs it (the built code, two
 * malloc arenas, a fixed mmap threshold and V8's young generation held small), so the figures are the server's and not the
 * benchmark's: its own event loop, its own memory (VmHWM, VmRSS from /proc).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { freePort } from "../test/helpers/server.js";

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  base: string;
  /** peak resident memory so far (VmHWM), MB */
  peakRssMb(): number;
  /** resident memory now (VmRSS), MB */
  rssMb(): number;
  stop(): Promise<void>;
}

export interface ServerOptions {
  dataDir: string;
  /** settings on top of the benchmark's environment (upload rate limit off, logs at warn) */
  env?: Record<string, string>;
  /** the command after `node`; default: the built `main.js serve` */
  args?: string[];
  port?: number;
  stdio?: "inherit" | "ignore";
  /** a server without /healthz (the plain baseline): any answer means it listens */
  anyAnswer?: boolean;
  /** glibc's allocator as it comes (the plain baseline), not the settings `npm start` gives Pixhaven */
  defaultAllocator?: boolean;
}

/** The allocator settings `npm start` runs the server with; the benchmarks' in-process columns use them too. */
export const SERVER_MALLOC_ENV = { MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "131072" } as const;
/** The V8 flags `npm start` gives the server (see README, Memory). */
export const SERVER_NODE_FLAGS = ["--max-semi-space-size=4"] as const;

export function rssMb(pid: number, field: "VmHWM" | "VmRSS"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
}

export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const main = path.join(import.meta.dirname, "..", "dist", "src", "main.js");
  const child = spawn(process.execPath, options.args ?? [...SERVER_NODE_FLAGS, main, "serve"], {
    env: {
      ...(options.defaultAllocator ? {} : SERVER_MALLOC_ENV),
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: options.dataDir,
      LOG_LEVEL: "warn",
      UPLOAD_RATE_LIMIT: "off",
      ...options.env,
    },
    stdio: ["ignore", options.stdio ?? "inherit", options.stdio ?? "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const server: ServerProcess = {
    child,
    port,
    base,
    peakRssMb: () => rssMb(child.pid!, "VmHWM"),
    rssMb: () => rssMb(child.pid!, "VmRSS"),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${base}/healthz`).then((r) => r.ok || !!options.anyAnswer, () => false)) return server;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error("the server did not start (run `npm run build` first)");
}
