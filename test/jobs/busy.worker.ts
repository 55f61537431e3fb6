import { threadId } from "node:worker_threads";
import { serveTasks } from "../../src/jobs/worker-main.js";

serveTasks(async (task: { op: "echo" | "spin" | "fail" | "thread"; value?: string; ms?: number }) => {
  if (task.op === "thread") return { value: threadId };
  if (task.op === "fail") throw Object.assign(new Error("no good"), { name: "BadInputError" });
  if (task.op === "spin") {
    const until = Date.now() + (task.ms ?? 0);
    while (Date.now() < until); // CPU-bound, like a WebAssembly decoder
  }
  return { value: task.value ?? "done" };
});
