import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Progress } from "../src/cli/progress.js";
import { TOOL_SPECS } from "../src/common/tools/index.js";
import { packageRoot } from "../src/config.js";
import { plainJpeg } from "./fixtures/images.js";
import { jpegWithMetadata } from "./fixtures/metadata.js";
import { A4, pdfWithPages } from "./fixtures/pdf.js";

const main = path.join(packageRoot(), "src", "main.ts");
// An absolute loader, so that the CLI can run from any folder.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd = packageRoot()): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", tsx, main, ...args], { cwd, env: { ...process.env, LOG_LEVEL: "silent" } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let root: string;
let jpeg: string;
let png: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-cli-tools-"));
  jpeg = path.join(root, "phone photo.jpg");
  png = path.join(root, "drawing.png");
  // Stored 64x48 and tagged "turn 90° clockwise", with GPS and the rest of a phone's EXIF.
  await fs.writeFile(jpeg, await jpegWithMetadata({ width: 64, height: 48, orientation: 6 }));
  await sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 0, g: 90, b: 200, alpha: 0.5 } } }).png().toFile(png);
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const outDir = (name: string) => path.join(root, name);

describe("pixhaven tools", () => {
  it("lists every tool with where it runs and what it takes", async () => {
    const { code, stdout } = await cli(["tools"]);
    expect(code).toBe(0);
    for (const name of Object.keys(TOOL_SPECS)) expect(stdout).toMatch(new RegExp(`^${name}\\s`, "m"));
    expect(stdout).toContain("PDF");
    expect(stdout).toContain("HEIC");
  });

  it("--json prints the catalogue with params as JSON Schema", async () => {
    const { code, stdout } = await cli(["tools", "--json"]);
    expect(code).toBe(0);
    const catalogue = JSON.parse(stdout) as Array<{ name: string; params: { properties: Record<string, unknown> } }>;
    expect(catalogue.map((t) => t.name)).toEqual(Object.keys(TOOL_SPECS));
    expect(Object.keys(catalogue.find((t) => t.name === "resize")!.params.properties)).toContain("preset");
  });

  it("`<tool> --help` and `tools <tool>` show parameters with types, ranges, defaults and examples", async () => {
    const { code, stdout } = await cli(["resize", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("--width <whole number 1-16384>");
    expect(stdout).toContain("instagram-portrait");
    expect(stdout).toContain("--without-enlargement (or --no-without-enlargement)  (default false)");
    expect(stdout).toContain("Examples:");
    const crop = await cli(["tools", "crop"]);
    expect(crop.stdout).toContain("--rect.x <whole number ≥0>");
    expect(crop.stdout).toContain("--rotate 0|90|180|270  (default 0)");
    const main = await cli(["--help"]);
    expect(main.stdout).toContain("tools [TOOL]");
    expect(main.stdout).toContain("pdf-to-images");
  });

  it("an unknown tool name is a usage error", async () => {
    const { code, stderr } = await cli(["tools", "sharpen"]);
    expect(code).toBe(2);
    expect(stderr).toContain('no tool named "sharpen"');
  });
});

describe("pixhaven <tool> FILES...", () => {
  it("converts two files to WebP into -o DIR: upright, right size, no metadata", async () => {
    const out = outDir("webp");
    const { code, stdout, stderr } = await cli(["convert", jpeg, png, "--format", "webp", "-o", out]);
    expect(stderr).not.toContain("error");
    expect(code).toBe(0);
    expect((await fs.readdir(out)).sort()).toEqual(["drawing.webp", "phone-photo.webp"]);
    const photo = await sharp(path.join(out, "phone-photo.webp")).metadata();
    expect(photo).toMatchObject({ format: "webp", width: 48, height: 64 });
    expect(photo.exif).toBeUndefined();
    expect(photo.xmp).toBeUndefined();
    expect(photo.orientation ?? 1).toBe(1);
    const drawing = await sharp(path.join(out, "drawing.webp")).metadata();
    expect(drawing).toMatchObject({ format: "webp", width: 40, height: 30, hasAlpha: true });
    expect(stdout).toContain(`${jpeg} -> ${path.join(out, "phone-photo.webp")}  (48x64, WebP,`);
  });

  it("--json prints one document matching the files, and nothing else on stdout", async () => {
    const out = outDir("json");
    const { code, stdout, stderr } = await cli(["convert", "--json", jpeg, png, "--format=webp", "--quality", "60", "-o", out]);
    expect(code).toBe(0);
    const results = JSON.parse(stdout) as Array<{ input: string; ok: boolean; outputs: Array<{ path: string; name: string; mime: string; bytes: number; width: number; height: number }> }>;
    expect(results.map((r) => [r.input, r.ok])).toEqual([
      [jpeg, true],
      [png, true],
    ]);
    for (const result of results) {
      expect(result.outputs).toHaveLength(1);
      const output = result.outputs[0]!;
      expect(output.path).toBe(path.join(out, output.name));
      expect(output.mime).toBe("image/webp");
      expect(output.bytes).toBe((await fs.stat(output.path)).size);
      expect(await sharp(output.path).metadata()).toMatchObject({ width: output.width, height: output.height });
    }
    expect(stderr).toContain("[2/2]"); // progress still goes to stderr
  });

  it("a bad or unknown parameter exits 2 naming it, touching no file", async () => {
    const out = outDir("never");
    const cases: Array<[string[], RegExp]> = [
      [["--format", "tiff"], /--format: .*expected one of/],
      [["--format", "webp", "--quality", "lots"], /--quality takes a whole number, not "lots"/],
      [["--format", "webp", "--quality", "101"], /--quality: .*100/],
      [["--format", "webp", "--sharpen", "2"], /convert has no parameter --sharpen/],
      [[], /--format: /],
    ];
    for (const [params, message] of cases) {
      const { code, stderr, stdout } = await cli(["convert", jpeg, ...params, "-o", out]);
      expect(code, params.join(" ")).toBe(2);
      expect(stderr).toMatch(message);
      expect(stdout).toBe("");
    }
    const noFiles = await cli(["convert", "--format", "webp"]);
    expect(noFiles.code).toBe(2);
    expect(noFiles.stderr).toContain("No input files");
    await expect(fs.stat(out)).rejects.toThrow();
  });

  it("one bad file among good ones exits 1, says why, and still writes the good ones", async () => {
    const out = outDir("mixed");
    const bad = path.join(root, "notes.jpg");
    await fs.writeFile(bad, "this is text, not a picture\n");
    const { code, stdout, stderr } = await cli(["convert", jpeg, bad, png, path.join(root, "missing.jpg"), "--format", "jpeg", "-o", out]);
    expect(code).toBe(1);
    expect((await fs.readdir(out)).sort()).toEqual(["drawing.jpg", "phone-photo.jpg"]);
    expect(stderr).toContain(`error: ${bad}: `);
    expect(stderr).toContain("(unsupported_type)");
    expect(stderr).toMatch(/missing\.jpg: No such file\. \(not_found\)/);
    expect(stdout).toContain("phone-photo.jpg");
    expect(stderr).toContain("4 file(s): 2 done, 2 failed");

    const json = await cli(["convert", "--json", bad, png, "--format", "jpeg", "-o", outDir("mixed-json")]);
    expect(json.code).toBe(1);
    const results = JSON.parse(json.stdout) as Array<{ ok: boolean; outputs: unknown[]; error?: { code: string; message: string } }>;
    expect(results[0]).toMatchObject({ ok: false, outputs: [], error: { code: "unsupported_type" } });
    expect(results[1]).toMatchObject({ ok: true });
  });

  it("without a terminal, progress is plain start and end lines per file and a total, with no control characters", async () => {
    const { code, stderr } = await cli(["strip", jpeg, png, "-o", outDir("strip")]);
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    const lines = stderr.trimEnd().split("\n");
    expect(lines).toContain(`[1/2] ${jpeg}: started`);
    expect(lines).toContain(`[2/2] ${png}: started`);
    expect(lines.some((l) => l.startsWith(`[1/2] ${jpeg}: done in `))).toBe(true);
    expect(lines.at(-1)).toMatch(/^2 file\(s\): 2 done, 0 failed in \d/);
  });

  it("never replaces an existing output: the new one gets a free name", async () => {
    const out = outDir("existing");
    await fs.mkdir(out);
    await fs.writeFile(path.join(out, "phone-photo.webp"), "mine");
    const { code, stdout } = await cli(["convert", jpeg, "--format", "webp", "-o", out, "--json"]);
    expect(code).toBe(0);
    expect(await fs.readFile(path.join(out, "phone-photo.webp"), "utf8")).toBe("mine");
    const [result] = JSON.parse(stdout) as Array<{ outputs: Array<{ name: string }> }>;
    expect(result!.outputs[0]!.name).toBe("phone-photo-2.webp");
    expect((await sharp(path.join(out, "phone-photo-2.webp")).metadata()).format).toBe("webp");
  });

  it("resize --preset gives the preset's exact size, named after it", async () => {
    const big = path.join(root, "wide.jpg");
    await fs.writeFile(big, await plainJpeg(1600, 1000, 4));
    const out = outDir("preset");
    const { code } = await cli(["resize", big, "--preset", "instagram-portrait", "-o", out]);
    expect(code).toBe(0);
    const [name] = await fs.readdir(out);
    expect(name).toMatch(/^wide-1080x1350\.jpg$/);
    expect(await sharp(path.join(out, name!)).metadata()).toMatchObject({ format: "jpeg", width: 1080, height: 1350 });
  });

  it("crop takes nested params (--rect.x ...) and booleans (--flop, --no-flip)", async () => {
    const out = outDir("crop");
    const { code, stdout } = await cli(["crop", jpeg, "--rect.x", "0", "--rect.y", "0", "--rect.width", "20", "--rect.height", "10", "--flop", "--no-flip", "-o", out, "--json"]);
    expect(code).toBe(0);
    const [result] = JSON.parse(stdout) as Array<{ outputs: Array<{ width: number; height: number }> }>;
    expect(result!.outputs[0]).toMatchObject({ width: 20, height: 10 });
  });

  it("takes a list as comma-separated values (ocr --languages fra,deu), says which element is wrong, and shows it in --help", async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="110"><rect width="100%" height="100%" fill="#fff"/><text x="20" y="70" font-family="DejaVu Sans, sans-serif" font-size="40">Un été très doux</text></svg>`;
    const page = path.join(root, "lettre.png");
    await sharp(Buffer.from(svg)).png().toFile(page);
    const out = outDir("ocr-list");
    const { code, stdout } = await cli(["ocr", page, "--languages", "fra,deu", "--no-text-file", "-o", out, "--json"]);
    expect(code).toBe(0);
    const [result] = JSON.parse(stdout) as Array<{ report: { text: string } }>;
    expect(result!.report.text).toContain("été");
    const wrong = await cli(["ocr", page, "--languages", "fra,xx", "-o", out]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--languages\.1: .*"eng"\|"fra"\|"deu"/);
    expect((await cli(["ocr", "--help"])).stdout).toContain("--languages eng|fra|deu[,...]  (default eng)");
  });

  it("pdf-to-images writes one file per page", async () => {
    const pdf = path.join(root, "report.pdf");
    await fs.writeFile(pdf, pdfWithPages([A4, A4, { width: 300, height: 200 }]));
    const out = outDir("pages");
    const { code, stdout } = await cli(["pdf-to-images", pdf, "--dpi", "36", "-o", out, "--json"]);
    expect(code).toBe(0);
    const [result] = JSON.parse(stdout) as Array<{ outputs: Array<{ path: string; mime: string; width: number; height: number }> }>;
    expect(result!.outputs).toHaveLength(3);
    expect(new Set(result!.outputs.map((o) => o.path)).size).toBe(3);
    expect((await fs.readdir(out)).length).toBe(3);
    for (const o of result!.outputs) expect((await sharp(o.path).metadata()).format).toBe("png");
    expect(result!.outputs[2]).toMatchObject({ width: 150, height: 100 });
  });

  it("writes into the current folder when no -o is given", async () => {
    const here = outDir("cwd");
    await fs.mkdir(here);
    const { code } = await cli(["convert", png, "--format", "webp"], here);
    expect(code).toBe(0);
    expect(await fs.readdir(here)).toEqual(["drawing.webp"]);
  });
});

describe("progress on a terminal", () => {
  it("draws a bar per file and a total in place, and clears them before lines that stay", () => {
    let written = "";
    const progress = new Progress({ isTTY: true, columns: 80, write: (t: string) => (written += t) }, 2);
    progress.start(0, "a.jpg");
    progress.update(0, 0.5);
    progress.print(() => {}); // a redraw now, not after the timer
    expect(written).toMatch(/a\.jpg\s+█{12}·{12}  50%\n/);
    expect(written).toMatch(/total: 0\/2 files\s+█{6}·{18}  25%\n/);
    written = "";
    progress.end(0, "done");
    progress.print(() => (written += "a.jpg -> a.webp\n"));
    expect(written.startsWith("\x1b[2F\x1b[0Ja.jpg -> a.webp\n")).toBe(true);
    progress.close("2 file(s): 1 done, 0 failed");
    expect(written).toMatch(/\x1b\[1F\x1b\[0J2 file\(s\): 1 done, 0 failed in /);
  });
});
