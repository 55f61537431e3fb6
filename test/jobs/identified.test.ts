import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { IdentifiedInputs, runToolWith, toolGate } from "../../src/jobs/tools.js";
import { identifyInput } from "../../src/tools/input.js";
import { expectAppError, LIMITS, photoJpeg, useHarness } from "../tools/harness.js";

const h = useHarness({ toolLimits: { resize: { maxInputPixels: 10_000 } } });

describe("what a submission learnt of its input", () => {
  it("is handed to the run in the same process once, and forgotten beyond a bound", async () => {
    const cache = new IdentifiedInputs(2);
    const file = path.join(h.root, "kept.jpg");
    await fs.writeFile(file, await photoJpeg(120, 80));
    const gate = toolGate(LIMITS, cache);
    const bytes = (await fs.stat(file)).size;
    await gate.checkInput("convert", { path: file, bytes }, "jobs/ab/k1");
    await gate.checkInput("convert", { path: file, bytes }, "jobs/ab/k2");
    await gate.checkInput("convert", { path: file, bytes }, "jobs/ab/k3");
    expect(cache.take("jobs/ab/k1")).toBeUndefined(); // the oldest went
    expect(cache.take("jobs/ab/k2")).toMatchObject({ kind: "image", format: "jpeg", header: { width: 120, height: 80 } });
    expect(cache.take("jobs/ab/k2")).toBeUndefined(); // a retry identifies again

    const run = runToolWith(h.runner, cache);
    const result = await run("convert", { path: file, name: "kept.jpg", key: "jobs/ab/k3" }, { format: "png" }, { progress: () => undefined, signal: new AbortController().signal, workDir: path.join(h.root, "out-k3") });
    expect(result).toMatchObject({ outputs: [{ name: "kept.png", width: 120, height: 80 }], inputPixels: 120 * 80 });
    expect(cache.take("jobs/ab/k3")).toBeUndefined();
  });

  it("still meets each tool's own checks: its types and its pixel limit", async () => {
    const file = path.join(h.root, "big.jpg");
    await fs.writeFile(file, await photoJpeg(200, 100));
    const identified = await identifyInput({ path: file, name: "" }, ["image/jpeg"], LIMITS);
    const request = { input: { path: file, name: "big.jpg" }, identified, outputDir: path.join(h.root, "out-big") };
    // resize takes at most 10 000 pixels here; pdf-to-images takes no JPEG.
    await expectAppError(h.runner.run({ ...request, tool: "resize", params: { percent: 50 } }), "too_many_pixels", 413);
    await expectAppError(h.runner.run({ ...request, tool: "pdf-to-images", params: {} }), "unsupported_type", 415);
    expect((await h.runner.run({ ...request, tool: "convert", params: { format: "webp" } })).outputs[0]).toMatchObject({ mime: "image/webp", width: 200, height: 100 });
  });

  it("is learnt from the first bytes its receiver kept, without reading the file again (JPEG)", async () => {
    const jpeg = await photoJpeg(160, 90);
    const cache = new IdentifiedInputs(4);
    // The file is not there: a read would fail (404). The head, kept as the upload passed, is all it takes.
    await toolGate(LIMITS, cache).checkInput("convert", { path: path.join(h.root, "never-written.jpg"), bytes: jpeg.length, head: jpeg.subarray(0, 64 * 1024) }, "jobs/ab/k4");
    expect(cache.take("jobs/ab/k4")).toMatchObject({ kind: "image", format: "jpeg", bytes: jpeg.length, header: { width: 160, height: 90 } });
  });
});
