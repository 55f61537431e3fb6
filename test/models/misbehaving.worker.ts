import { serveTasks } from "../../src/jobs/worker-main.js";

/** A model thread that fails in each of the ways a real one can, on request. */
serveTasks(async ({ input }: { model: string; input: string }) => {
  if (input === "exit") process.exit(7); // killed mid-task
  if (input === "load") throw Object.assign(new Error("weights are corrupt"), { name: "ModelLoadError" });
  if (input === "throw") throw new Error("shape mismatch");
  if (input === "hang") await new Promise(() => undefined);
  return { value: `ok ${input}` };
});
