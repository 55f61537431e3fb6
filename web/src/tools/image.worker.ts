/**
 * One web worker of the pool: runs the pixel pipeline (compress, convert, resize, crop) and the strip
 * tool, loading each codec on first use and keeping it warm for the next file.
 */
import { warmEncoders } from "./codecs.js";
import { loadHeif } from "./heic.js";
import { runImageJob } from "./pixels.js";
import { problemOf } from "./problems.js";
import type { WorkerReply, WorkerRequest } from "./protocol.js";
import { runStripJob } from "./strip.js";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
};

scope.onmessage = (e) => {
  const { id, job } = e.data;
  const progress = (fraction: number) => scope.postMessage({ id, progress: fraction });
  const work = async (): Promise<{ result: unknown; transfer: ArrayBuffer[] }> => {
    if (job.kind === "warm") {
      await Promise.all([warmEncoders(job.formats), job.heic ? loadHeif() : undefined]);
      return { result: null, transfer: [] };
    }
    const done = job.kind === "strip" ? await runStripJob(job, progress) : await runImageJob(job, progress);
    return { result: done.outcome, transfer: done.transfer };
  };
  work().then(
    ({ result, transfer }) => scope.postMessage({ id, ok: true, result }, transfer),
    // A code and its values, never a sentence: the page words it in the visitor's language.
    (err: unknown) => scope.postMessage({ id, ok: false, problem: problemOf(err) }),
  );
};
