import type { FastifyBaseLogger } from "fastify";
import type { ImageService } from "../images/service.js";

export interface PurgeReport {
  tombstones: number;
  abandonedUploads: number;
}

/** No upload takes this long; a row still pending after it belongs to a process that died. */
export const ABANDONED_UPLOAD_AFTER_MS = 60 * 60 * 1000;

/** One pass of every retention rule this version enforces; `pixhaven purge` and the schedule share it. */
export async function runPurge(images: ImageService, tombstoneRetentionMs: number): Promise<PurgeReport> {
  return {
    tombstones: await images.purgeTombstones(tombstoneRetentionMs),
    abandonedUploads: await images.purgeAbandonedUploads(ABANDONED_UPLOAD_AFTER_MS),
  };
}

/** Runs the purge at start and then every `everyMs`, logging counts only (never ids or names). */
export function schedulePurge(run: () => Promise<PurgeReport>, everyMs: number, log: FastifyBaseLogger): () => void {
  const pass = () =>
    run().then(
      (report) => log.info({ purge: report }, "retention purge done"),
      (err) => log.error({ err }, "retention purge failed"),
    );
  void pass();
  const timer = setInterval(pass, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
