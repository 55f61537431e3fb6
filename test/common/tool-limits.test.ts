import { describe, expect, it } from "vitest";
import { effectiveLimits, megapixels, toolCatalogue, withLimits } from "../../src/common/tools/index.js";
import { loadConfig } from "../../src/config.js";

describe("limits in the tools' texts", () => {
  it("name the limits in force here, set by the operator, in the description and the params alike", () => {
    const config = loadConfig({ RESTORE_MAX_PIXELS: "1000", UPSCALE_MAX_OUTPUT_PIXELS: "50000", MAX_PIXELS: "20000000" });
    const catalogue = toolCatalogue((name, own) => effectiveLimits(own, config.toolLimits[name], config.maxPixels));
    const restore = catalogue.find((t) => t.name === "restore")!;
    expect(restore.limits).toMatchObject({ maxModelPixels: 1000, maxInputPixels: 20_000_000 });
    expect(restore.description).toContain("at most 1000 pixels (e.g. 31×31)");
    expect(JSON.stringify(restore.params)).toContain("at most 1000 pixels (e.g. 31×31)");
    const upscale = catalogue.find((t) => t.name === "upscale")!;
    expect(upscale.description).toContain("at most 0.05 megapixels");
    // No placeholder is left anywhere, and without settings the specs' own limits are named.
    expect(JSON.stringify(catalogue)).not.toMatch(/\{max[A-Za-z]+\}/);
    expect(toolCatalogue().find((t) => t.name === "restore")!.description).toContain("at most 250000 pixels (e.g. 500×500)");
    expect(toolCatalogue().find((t) => t.name === "upscale")!.description).toContain("at most 16 megapixels");
  });

  it("never round a limit to nothing", () => {
    expect([16_000_000, 1_500_000, 50_000, 1000].map(megapixels)).toEqual(["16", "1.5", "0.05", "0.001"]);
    expect(withLimits("{maxOutputPixels} and {unknown}", {})).toBe("{maxOutputPixels} and {unknown}");
  });
});
