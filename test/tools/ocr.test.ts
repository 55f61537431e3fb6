import fs from "node:fs/promises";
import os from "node:os";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import type { OcrResult } from "../../src/common/tools/ocr.js";
import { expectAppError, useHarness } from "./harness.js";

// One harness, one model thread: Tesseract starts once for the file and stays warm.
const h = useHarness();

/** Black text on white, rendered by librsvg (tests only: the server never rasterises SVG). */
async function textImage(lines: string[], format: "png" | "jpeg" = "png"): Promise<Buffer> {
  const height = 40 + lines.length * 56;
  const text = lines.map((line, i) => `<text x="24" y="${64 + i * 56}" font-family="DejaVu Sans, sans-serif" font-size="34" fill="#111">${line}</text>`).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="720" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${text}</svg>`;
  const image = sharp(Buffer.from(svg));
  return format === "png" ? image.png().toBuffer() : image.jpeg({ quality: 92 }).toBuffer();
}

const words = (report: OcrResult) => report.words.map((w) => w.text);

const tmpOcrFolders = async () => (await fs.readdir(os.tmpdir())).filter((name) => name.startsWith("pixhaven-ocr-"));

describe("ocr", () => {
  // Tesseract, left to its defaults, writes the language data it loaded into the working directory
  // as <lang>.traineddata (the threads share this process's one). Other files there come and go.
  const written = async () => (await fs.readdir(process.cwd())).filter((name) => /traineddata/.test(name));
  let before: string[] = [];
  beforeAll(async () => {
    before = await written();
  });

  it("reads English, with each word's confidence and box, and delivers the text as a .txt file", async () => {
    const result = await h.run("ocr", await textImage(["The quick brown fox", "jumps over the lazy dog"]), {}, { name: "note.png" });
    const report = result.report as unknown as OcrResult;
    expect(report.languages).toEqual(["eng"]);
    expect(report.text.replace(/\s+/g, " ").trim()).toBe("The quick brown fox jumps over the lazy dog");
    expect(words(report)).toEqual(["The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]);
    expect(report.confidence).toBeGreaterThan(80);
    for (const word of report.words) {
      expect(word.confidence).toBeGreaterThan(50);
      expect(word.bbox.x0).toBeLessThan(word.bbox.x1);
      expect(word.bbox.y0).toBeLessThan(word.bbox.y1);
      expect(word.bbox.x1).toBeLessThanOrEqual(720);
    }
    // Words of the first line lie above those of the second, and left to right.
    const [the, quick] = report.words;
    expect(the!.bbox.x1).toBeLessThan(quick!.bbox.x0);
    expect(report.words[0]!.bbox.y1).toBeLessThan(report.words[4]!.bbox.y0);
    expect(report.lines.map((l) => l.text)).toEqual(["The quick brown fox", "jumps over the lazy dog"]);
    expect(result.outputs).toHaveLength(1);
    expect(result.outputs[0]).toMatchObject({ name: "note.txt", mime: "text/plain; charset=utf-8", width: 0, height: 0 });
    expect(await fs.readFile(result.outputs[0]!.path, "utf8")).toBe(report.text);
  });

  it("reads French with its accents", async () => {
    const report = (await h.run("ocr", await textImage(["Bonjour le monde", "Où êtes-vous, garçon ?"], "jpeg"), { languages: ["fra"], textFile: false })).report as unknown as OcrResult;
    expect(report.languages).toEqual(["fra"]);
    expect(words(report)).toEqual(expect.arrayContaining(["Bonjour", "le", "monde", "Où", "êtes-vous,", "garçon"]));
  });

  it("reads German with umlauts and ß, and several languages at once", async () => {
    const image = await textImage(["Grüße aus München", "Straße über Brücken"]);
    const german = (await h.run("ocr", image, { languages: ["deu"] })).report as unknown as OcrResult;
    expect(words(german)).toEqual(["Grüße", "aus", "München", "Straße", "über", "Brücken"]);
    const mixed = (await h.run("ocr", await textImage(["Bonjour le monde", "Grüße aus München"]), { languages: ["fra", "deu"] })).report as unknown as OcrResult;
    expect(mixed.languages).toEqual(["fra", "deu"]);
    expect(words(mixed)).toEqual(["Bonjour", "le", "monde", "Grüße", "aus", "München"]);
  });

  it("answers an image without text with empty text and no words", async () => {
    const blank = await sharp({ create: { width: 200, height: 120, channels: 3, background: "#ffffff" } }).png().toBuffer();
    const report = (await h.run("ocr", blank, { textFile: false })).report as unknown as OcrResult;
    expect(report.text.trim()).toBe("");
    expect(report.words).toEqual([]);
  });

  it("refuses an unknown language and a file that is not an image", async () => {
    await expectAppError(h.run("ocr", await textImage(["x"]), { languages: ["spa"] }), "invalid_params", 400, /languages/);
    await expectAppError(h.run("ocr", await textImage(["x"]), { languages: [] }), "invalid_params", 400);
    await expectAppError(h.run("ocr", new TextEncoder().encode("plain text is not an image")), "unsupported_type", 415);
  });

  it("writes nothing into the working directory and leaves no language folder behind", async () => {
    expect(await written()).toEqual(before);
    expect(await tmpOcrFolders()).toEqual([]);
  });
});
