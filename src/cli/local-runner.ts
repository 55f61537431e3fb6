import { mkdtempSync, rmSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Config } from "../config.js";
import { ImageWorkers } from "../images/workers.js";
import { ModelThreads } from "../models/pool.js";
import { MemoryBudget } from "../tools/memory-budget.js";
import { ToolRunner } from "../tools/runner.js";

export interface LocalRunner {
  runner: ToolRunner;
  /** stops the threads and removes the temp folder */
  close(): Promise<void>;
  /** removes the temp folder now, for a process about to exit */
  removeNow(): void;
}

/**
 * What running a tool on this machine needs, and nothing more: no database, no blob store and not
 * DATA_DIR's temp folder (which belongs to servers). The limits are the operator's, from the same
 * settings a server reads; the temp folder is private and goes when the process does, however it
 * ends.
 */
export function openLocalRunner(config: Config, threads: number): LocalRunner {
  const tempDir = mkdtempSync(path.join(os.tmpdir(), "pixhaven-"));
  const removeNow = () => rmSync(tempDir, { recursive: true, force: true });
  process.on("exit", removeNow);
  const workers = new ImageWorkers(threads, config.decodeTimeoutMs);
  const models = new ModelThreads(config.modelWorkers, { computeThreads: config.modelComputeThreads, nice: config.modelNice, settings: { colorizeManifest: config.colorizeModel } });
  const runner = new ToolRunner({
    models,
    toolLimits: config.toolLimits,
    limits: { maxPixels: config.maxPixels, maxAnimationPixels: config.maxAnimationPixels, decodeTimeoutMs: config.decodeTimeoutMs },
    budget: new MemoryBudget(config.decodeMemoryBytes),
    threads: workers,
    tempDir,
  });
  return {
    runner,
    removeNow,
    async close() {
      try {
        await runner.close();
        await workers.close();
        await models.close();
      } finally {
        await fs.rm(tempDir, { recursive: true, force: true });
        process.off("exit", removeNow);
      }
    },
  };
}
