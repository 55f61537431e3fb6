import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { costKey, workPixels } from "../../src/common/tools/cost.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

describe("expected time: the measured rate of runs of the same kind", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
    // Runs as the worker records them: restore fast on whole pictures, restore ai on rectangles
    // (minutes a megapixel), and a 1×1 picture whose second is all fixed cost.
    const run = (id: string, params: object, pixels: number, seconds: number) => ({
      id,
      batch_id: "batchbatch1",
      tool: "restore",
      params: JSON.stringify(params),
      status: "succeeded" as const,
      input_name: "p.jpg",
      input_bytes: 1000,
      input_key: null,
      delete_token_hash: "x",
      owner_id: null,
      created_at: 1_000,
      started_at: 1_000,
      finished_at: 1_000 + seconds * 1000,
      input_pixels: pixels,
      progress: 1,
      attempts: 1,
    });
    await srv.px.core.db.db
      .insertInto("jobs")
      .values([
        run("fastrun0001", { mode: "fast" }, 4_000_000, 2),
        run("fastrun0002", { mode: "fast" }, 2_000_000, 1),
        run("fastrun0003", { mode: "fast" }, 1, 1),
        run("airun000001", { mode: "ai", rect: { x: 0, y: 0, width: 200, height: 200 } }, 12_000_000, 30),
      ])
      .execute();
  });
  afterAll(() => srv.stop());

  it("keeps one rate per kind (restore's mode), counts a rectangle's pixels, and leaves out pictures too small to tell", async () => {
    const restore = (await (await fetch(`${srv.baseUrl}/api/v1/tools`)).json()).tools.find((t: { name: string }) => t.name === "restore");
    // fast: 0.5 s a megapixel (the 1×1 run, a million seconds a megapixel, is not counted); ai: 30 s for 0.04 MP.
    expect(restore.secondsPerMegapixelByKind).toEqual({ fast: 0.5, ai: 750 });
    expect(restore.secondsPerMegapixel).toBe(0.5); // the default settings' kind
  });

  it("tells kinds apart by what their time depends on", () => {
    expect(costKey("upscale", { model: "best", scale: 4 })).toBe("best-x4");
    expect(costKey("upscale", {})).toBe("fast-x2");
    expect(costKey("ocr", { languages: ["eng", "fra"] })).toBe("languages-2");
    expect(costKey("convert", { format: "webp" })).toBe("");
    expect(workPixels({ rect: { x: 5, y: 5, width: 10, height: 20 } }, 1e6)).toBe(200);
    expect(workPixels({}, 1e6)).toBe(1e6);
  });
});
