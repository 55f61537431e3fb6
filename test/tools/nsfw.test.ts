import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { NSFW_CLASSES } from "../../src/common/tools/nsfw.js";
import { expectAppError, photoJpeg, useHarness } from "./harness.js";

// One harness, so one model thread loads the model once for the whole file.
const h = useHarness();

function expectScores(report: Record<string, unknown> | undefined): void {
  const { label, score, scores } = report as { label: string; score: number; scores: Record<string, number> };
  expect(Object.keys(scores).sort()).toEqual([...NSFW_CLASSES].sort());
  const values = Object.values(scores);
  for (const v of values) expect(v).toBeGreaterThanOrEqual(0);
  expect(Math.abs(values.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-3);
  const argmax = NSFW_CLASSES.reduce((best, name) => (scores[name]! > scores[best]! ? name : best));
  expect(label).toBe(argmax);
  expect(score).toBe(scores[argmax]);
}

describe("nsfw", () => {
  it("classifies a photo into the five classes: probabilities summing to 1, the label their argmax, no file", async () => {
    const result = await h.run("nsfw", await photoJpeg(320, 240));
    expect(result.outputs).toEqual([]);
    expectScores(result.report);
  });

  it("takes other formats and sizes: a transparent PNG, a tiny GIF, a tall WebP turned by its orientation", async () => {
    const inputs = [
      await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 200, g: 40, b: 40, alpha: 0.3 } } }).png().toBuffer(),
      await sharp({ create: { width: 8, height: 8, channels: 3, background: "#3060f0" } }).gif().toBuffer(),
      await sharp(await photoJpeg(90, 400)).withMetadata({ orientation: 6 }).webp().toBuffer(),
    ];
    for (const bytes of inputs) expectScores((await h.run("nsfw", bytes, {}, { name: "x.png" })).report);
  });

  it("answers the same scores for the same picture (a warm model, no state carried over)", async () => {
    const photo = await photoJpeg(200, 150);
    const a = (await h.run("nsfw", photo)).report as { scores: Record<string, number> };
    const b = (await h.run("nsfw", photo)).report as { scores: Record<string, number> };
    expect(b.scores).toEqual(a.scores);
  });

  it("refuses params it does not have and a file that is not an image", async () => {
    await expectAppError(h.run("nsfw", await photoJpeg(32, 32), { threshold: 1 }), "invalid_params", 400);
    await expectAppError(h.run("nsfw", new TextEncoder().encode("not an image")), "unsupported_type", 415);
  });
});
