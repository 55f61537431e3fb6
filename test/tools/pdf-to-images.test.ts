import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { SECRETS } from "../fixtures/metadata.js";
import { A4, brokenPdf, pdfWithPages } from "../fixtures/pdf.js";
import { expectNothingPersonal } from "../common/metadata-helpers.js";
import { expectAppError, pixelAt, useHarness } from "./harness.js";
import fs from "node:fs/promises";

const h = useHarness();
const LETTER = { width: 612, height: 792 };

describe("pdf-to-images", () => {
  it("renders A4 at 150 DPI as exactly 1240x1754 pixels, named after the document and page", async () => {
    const result = await h.run("pdf-to-images", pdfWithPages([A4]), {}, { name: "report.pdf" });
    expect(result.outputs).toEqual([expect.objectContaining({ name: "report-p1.png", mime: "image/png", width: 1240, height: 1754 })]);
    const meta = await sharp(result.outputs[0]!.path).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([1240, 1754, "png"]);
    // The red block is drawn at the page's top-left, white elsewhere.
    expect(await pixelAt(result.outputs[0]!.path, 20, 20)).toEqual([255, 0, 0]);
    expect(await pixelAt(result.outputs[0]!.path, 600, 900)).toEqual([255, 255, 255]);
    expect(result.report).toEqual({ pageCount: 1, pages: [1], dpi: 150 });
  });

  it("renders the chosen pages at the chosen DPI and format", async () => {
    const pdf = pdfWithPages([A4, LETTER, A4, LETTER, A4, A4]);
    const result = await h.run("pdf-to-images", pdf, { pages: "1-3,5", dpi: 72, format: "jpeg" }, { name: "doc.pdf" });
    expect(result.outputs.map((o) => [o.name, o.mime, o.width, o.height])).toEqual([
      ["doc-p1.jpg", "image/jpeg", 595, 842],
      ["doc-p2.jpg", "image/jpeg", 612, 792],
      ["doc-p3.jpg", "image/jpeg", 595, 842],
      ["doc-p5.jpg", "image/jpeg", 595, 842],
    ]);
    const webp = await h.run("pdf-to-images", pdf, { pages: "6-", dpi: 300, format: "webp" }, { name: "doc.pdf" });
    expect(webp.outputs.map((o) => [o.name, o.width, o.height])).toEqual([["doc-p6.webp", 2480, 3508]]);
  });

  it("refuses an encrypted, a broken or an over-cap PDF, and pages it does not have", async () => {
    await expectAppError(h.run("pdf-to-images", pdfWithPages([A4], { password: "secret" })), "encrypted_pdf", 422);
    await expectAppError(h.run("pdf-to-images", brokenPdf()), "invalid_pdf", 422);
    const many = pdfWithPages(Array.from({ length: 51 }, () => ({ width: 100, height: 100 })));
    await expectAppError(h.run("pdf-to-images", many), "too_many_pages", 413, /At most 50 pages/);
    expect((await h.run("pdf-to-images", many, { pages: "1-50", dpi: 18 })).outputs).toHaveLength(50);
    await expectAppError(h.run("pdf-to-images", pdfWithPages([A4, A4]), { pages: "3" }), "invalid_params", 400, /^pages:.*2 pages/);
    await expectAppError(h.run("pdf-to-images", pdfWithPages([A4]), { pages: "one" }), "invalid_params", 400, /^pages:/);
    await expectAppError(h.run("pdf-to-images", pdfWithPages([A4]), { dpi: 601 }), "invalid_params", 400, /^dpi:/);
  });

  it("refuses a page whose pixels would pass the output limit", async () => {
    const huge = pdfWithPages([{ width: 14400, height: 14400 }]); // 200 inches square
    await expectAppError(h.run("pdf-to-images", huge, { dpi: 600 }), "too_many_pixels", 413, /Page 1 at 600 DPI would be 120000×120000 pixels/);
  });

  it("takes only PDFs, and image tools take no PDF", async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#fff" } }).jpeg().toBuffer();
    await expectAppError(h.run("pdf-to-images", jpeg), "unsupported_type", 415);
    await expectAppError(h.run("convert", pdfWithPages([A4]), { format: "png" }), "unsupported_type", 415);
  });

  it("P7: no metadata survives pdf-to-images", async () => {
    const result = await h.run("pdf-to-images", pdfWithPages([A4], { author: SECRETS.make }), { dpi: 36, format: "jpeg" });
    for (const out of result.outputs) await expectNothingPersonal(await fs.readFile(out.path));
  });

  it("reports progress to 1 and, when aborted, stops between pages and leaves no work folder", async () => {
    const pdf = pdfWithPages(Array.from({ length: 8 }, () => A4));
    const seen: number[] = [];
    await h.run("pdf-to-images", pdf, { dpi: 36 }, { onProgress: (f) => seen.push(f) });
    expect(seen.at(-1)).toBe(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    const controller = new AbortController();
    let rendered = 0;
    const run = h.run("pdf-to-images", pdf, { dpi: 36 }, { signal: controller.signal, onProgress: (f) => f > 0.1 && ++rendered === 2 && controller.abort() });
    await expectAppError(run, "cancelled", 499);
    expect(await h.workFolders()).toEqual([]);
  });
});
