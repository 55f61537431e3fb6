import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { outputName } from "../../src/common/tools/names.js";
import { parsePageRanges } from "../../src/common/tools/page-ranges.js";
import { pdfToImagesSpec } from "../../src/common/tools/pdf-to-images.js";
import { cropSpec } from "../../src/common/tools/crop.js";
import { parseParams } from "../../src/tools/runner.js";
import { jpegWithMetadata } from "../fixtures/metadata.js";
import { expectAppError, photoJpeg, useHarness } from "./harness.js";

const h = useHarness();
const small = useHarness({ budget: 20 * 1024 * 1024 });

describe("tool runner", () => {
  it("answers 404 for a tool that does not exist", async () => {
    await expectAppError(h.run("sharpen", await jpegWithMetadata(), {}), "unknown_tool", 404);
    await expectAppError(h.run("__proto__", await jpegWithMetadata(), {}), "unknown_tool", 404);
  });

  it("refuses a run whose decoder memory can never fit the budget", async () => {
    await expectAppError(small.run("convert", await photoJpeg(2000, 1500), { format: "png" }), "too_many_pixels", 413, /DECODE_MEMORY/);
    expect((await small.run("convert", await photoJpeg(200, 150), { format: "png" })).outputs).toHaveLength(1);
  });

  it("never replaces a file in the output folder", async () => {
    const input = path.join(h.root, "same-in.jpg");
    await fs.writeFile(input, await photoJpeg(40, 30));
    const outputDir = path.join(h.root, "shared-out");
    const run = () => h.runner.run({ tool: "convert", input: { path: input, name: "photo.jpg" }, params: { format: "webp" }, outputDir });
    const [first, second] = [await run(), await run()];
    expect([first.outputs[0]!.name, second.outputs[0]!.name]).toEqual(["photo.webp", "photo-2.webp"]);
    expect((await fs.readdir(outputDir)).sort()).toEqual(["photo-2.webp", "photo.webp"]);
  });

  it("stops before starting when the signal is already aborted", async () => {
    await expectAppError(h.run("convert", await photoJpeg(40, 30), { format: "png" }, { signal: AbortSignal.abort() }), "cancelled", 499);
    expect(await h.workFolders()).toEqual([]);
  });

  it("answers 400 for an empty file and 404 for a missing one", async () => {
    await expectAppError(h.run("convert", new Uint8Array(0), { format: "png" }), "empty_file", 400);
    await expectAppError(h.runner.run({ tool: "convert", input: { path: path.join(h.root, "nope"), name: "x" }, params: { format: "png" }, outputDir: h.root }), "not_found", 404);
  });
});

describe("output names", () => {
  it("derive from the input's name, safely", () => {
    expect(outputName("photo.jpg", "webp")).toBe("photo.webp");
    expect(outputName("photo.jpeg", "jpg", "1080x1350")).toBe("photo-1080x1350.jpg");
    expect(outputName("doc.pdf", "png", "p3")).toBe("doc-p3.png");
    expect(outputName("../../etc/passwd", "png")).toBe("passwd.png");
    expect(outputName("C:\\Users\\me\\My Photo (1).HEIC", "jpg")).toBe("My-Photo-1.jpg");
    expect(outputName("evil\u202Egpj.exe", "png")).toBe("evil-gpj.png");
    expect(outputName(".hidden", "png")).toBe("hidden.png");
    expect(outputName("", "png")).toBe("image.png");
    expect(outputName("Été à Zürich.png", "webp")).toBe("Été-à-Zürich.webp");
    expect(outputName(`${"a".repeat(300)}.png`, "webp")).toBe(`${"a".repeat(80)}.webp`);
  });
});

describe("page ranges", () => {
  it("parse selections against the page count", () => {
    expect(parsePageRanges("1-3,5", 6)).toEqual([1, 2, 3, 5]);
    expect(parsePageRanges("all", 3)).toEqual([1, 2, 3]);
    expect(parsePageRanges("4-", 6)).toEqual([4, 5, 6]);
    expect(parsePageRanges("2,2,1", 6)).toEqual([2, 1]);
    expect(parsePageRanges("7", 6)).toBeNull();
    expect(parsePageRanges("3-1", 6)).toBeNull();
    expect(parsePageRanges("x", 6)).toBeNull();
    expect(parsePageRanges("1-100000", 100000, 50)).toHaveLength(51);
  });

  it("names the turns crop takes", () => {
    for (const rotate of [45, -90, 360, "90"]) expect(() => parseParams(cropSpec.params, { rotate })).toThrow(/^rotate: Turn by 0, 90, 180 or 270 degrees\.$/);
  });

  it("refuses a range that runs downwards with the params, before any file is read", () => {
    expect(() => parseParams(pdfToImagesSpec.params, { pages: "1,3-1" })).toThrow(/pages: A range goes from its lower page to its higher/);
    expect(parseParams(pdfToImagesSpec.params, { pages: "1-3, 5-5, 7-" })).toMatchObject({ pages: "1-3, 5-5, 7-" });
  });
});
