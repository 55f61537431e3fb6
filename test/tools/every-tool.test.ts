import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { TOOL_SPECS, type ToolName, toolCatalogue } from "../../src/common/tools/index.js";
import { jpegWithMetadata } from "../fixtures/metadata.js";
import { A4, pdfWithPages } from "../fixtures/pdf.js";
import { pngClaiming } from "../fixtures/images.js";
import { expectAppError, expectNoMetadata, pixelAt, useHarness } from "./harness.js";

const h = useHarness();

/** Tools that run a model have files of their own (one model load each); pdf-to-images too. */
type ModelOrPdfTool = "pdf-to-images" | "nsfw" | "ocr" | "remove-background" | "colorize";

/** A typical run of each classic image tool. */
const IMAGE_RUNS: Record<Exclude<ToolName, ModelOrPdfTool>, Record<string, unknown>> = {
  convert: { format: "webp" },
  compress: {},
  resize: { width: 32 },
  crop: { rect: { x: 0, y: 0, width: 40, height: 44 } },
  strip: {},
  // Cheap enough on the test's small pictures to go through every check here too.
  restore: {},
  upscale: { scale: 2 },
};
const tools = Object.entries(IMAGE_RUNS);
const isRed = ([r, g, b]: number[]) => r! > 190 && g! < 80 && b! < 80;

describe.each(tools)("%s", (tool, params) => {
  it(`P7: no metadata survives ${tool}`, async () => {
    const result = await h.run(tool, await jpegWithMetadata({ width: 64, height: 48 }), params);
    expect(result.outputs.length).toBeGreaterThan(0);
    for (const out of result.outputs) await expectNoMetadata(await fs.readFile(out.path));
  });

  it("turns a photo with orientation 6 upright", async () => {
    // Stored 64×48 with red top-left; shown turned clockwise: 48×64 with red top-right.
    const result = await h.run(tool, await jpegWithMetadata({ width: 64, height: 48, orientation: 6 }), params);
    const out = result.outputs[0]!;
    expect(out.height).toBeGreaterThan(out.width);
    expect(isRed(await pixelAt(out.path, Math.floor(out.width * 0.85), Math.floor(out.height * 0.1)))).toBe(true);
    expect(isRed(await pixelAt(out.path, Math.floor(out.width * 0.1), Math.floor(out.height * 0.1)))).toBe(false);
    await expectNoMetadata(await fs.readFile(out.path));
  });

  it("refuses a file of the wrong type (415) and an image over the pixel limit (413)", async () => {
    await expectAppError(h.run(tool, new TextEncoder().encode("hello, not an image"), params), "unsupported_type", 415);
    await expectAppError(h.run(tool, pdfWithPages([A4]), params), "unsupported_type", 415);
    await expectAppError(h.run(tool, pngClaiming(10_000, 10_000), params), "too_many_pixels", 413, /the limit is 50000000 pixels/);
  });

  it("reports increasing progress ending at 1", async () => {
    const seen: number[] = [];
    await h.run(tool, await jpegWithMetadata({ width: 64, height: 48 }), params, { onProgress: (f) => seen.push(f) });
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f > seen[i - 1]!))).toBe(true);
  });

  it("stops when aborted, throws the cancellation and leaves no work folder", async () => {
    const controller = new AbortController();
    const run = h.run(tool, await jpegWithMetadata({ width: 64, height: 48, orientation: 6 }), params, {
      signal: controller.signal,
      onProgress: (f) => f > 0 && controller.abort(),
    });
    await expectAppError(run, "cancelled", 499);
    expect(await h.workFolders()).toEqual([]);
  });
});

describe("catalogue", () => {
  it("describes every tool with a self-documenting JSON Schema", () => {
    const catalogue = toolCatalogue();
    expect(catalogue.map((t) => t.name)).toEqual(Object.keys(TOOL_SPECS));
    for (const tool of catalogue) {
      expect(tool.params).toMatchObject({ type: "object", additionalProperties: false });
      const properties = tool.params.properties as Record<string, { description?: string }>;
      for (const [field, schema] of Object.entries(properties)) expect(schema.description, `${tool.name}.${field}`).toBeTruthy();
      expect(tool.accepts.length).toBeGreaterThan(0);
    }
    expect(catalogue.find((t) => t.name === "pdf-to-images")).toMatchObject({ runsOn: "server", accepts: ["application/pdf"], limits: { maxPages: 50 } });
  });
});
