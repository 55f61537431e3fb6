import { parentPort } from "node:worker_threads";
import { postMoving } from "./post.js";
import type { WorkerReply } from "./thread-pool.js";

export interface TaskResult {
  value: unknown;
  transfer?: ArrayBuffer[];
}

/** The worker side of ThreadPool: answers each task message with the handler's result or error. */
export function serveTasks(handler: (message: any) => Promise<TaskResult>): void {
  const port = parentPort;
  if (!port) throw new Error("serveTasks runs only inside a worker thread");
  port.on("message", async ({ id, message }: { id: number; message: unknown }) => {
    try {
      const { value, transfer = [] } = await handler(message);
      postMoving(port, { id, ok: true, value } satisfies WorkerReply, transfer);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ id, ok: false, error: { name: e.name, message: e.message } } satisfies WorkerReply);
    }
  });
}
