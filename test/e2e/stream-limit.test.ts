import fs from "node:fs/promises";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_STREAMS_PER_NETWORK } from "../../src/http/job-events.js";
import type { RunTool } from "../../src/jobs/worker.js";
import { plainJpeg } from "../fixtures/images.js";
import { launchChromium, openWatchedPage, type PageLog, skipBrowser } from "../helpers/browser.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** Holds the job of "hold.jpg" until released; copies any other input as its output. */
function holdingTool(held: Promise<void>): RunTool {
  return async (_tool, input, _params, ctx) => {
    if (input.name === "hold.jpg") await held;
    await fs.mkdir(ctx.workDir, { recursive: true });
    const out = path.join(ctx.workDir, "out.jpg");
    await fs.copyFile(input.path, out);
    return { outputs: [{ path: out, name: "out.jpg", mime: "image/jpeg", bytes: (await fs.stat(out)).size }] };
  };
}

(skipBrowser ? describe.skip : describe)("a page whose network has no event stream left, in Chromium", () => {
  let srv: TestServer;
  let browser: Browser;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const log: PageLog = { requests: [], cspReports: [], pageErrors: [] };

  beforeAll(async () => {
    srv = await startTestServer({ jobWorker: true, runTool: holdingTool(held), config: { toolConcurrency: 2 } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    release();
    await browser?.close();
    await srv?.stop();
  });

  it(`follows its job by polling once ${MAX_STREAMS_PER_NETWORK} streams are open from its network, and shows it done`, async () => {
    const form = new FormData();
    form.append("tool", "strip");
    form.append("params", "{}");
    form.append("file", new Blob([(await plainJpeg(32, 32, 1)) as Uint8Array<ArrayBuffer>]), "hold.jpg");
    const batch = await (await fetch(`${srv.baseUrl}/api/v1/jobs`, { method: "POST", body: form })).json();
    const streams = new AbortController();
    for (let i = 0; i < MAX_STREAMS_PER_NETWORK; i++) expect((await fetch(batch.eventsUrl, { signal: streams.signal })).status).toBe(200);
    expect((await fetch(batch.eventsUrl)).status).toBe(429);

    const { context, page } = await openWatchedPage(browser, log);
    await page.goto(`${srv.baseUrl}/tools/strip?on=server`);
    await page.getByLabel("Choose files for this tool").setInputFiles({ name: "photo.jpg", mimeType: "image/jpeg", buffer: await plainJpeg(48, 32, 2) });
    await page.getByRole("button", { name: "Upload and run on 1 file" }).click();
    await page.getByRole("status").filter({ hasText: /^Done$/ }).waitFor({ timeout: 60_000 });
    // Its stream was refused; the batch was read instead.
    expect(log.requests.some((url) => /\/api\/v1\/batches\/[^/]+\/events$/.test(url))).toBe(true);
    expect(log.requests.some((url) => /\/api\/v1\/batches\/[^/]+$/.test(url))).toBe(true);
    expect(log.pageErrors).toEqual([]);
    streams.abort();
    await context.close();
  });
});
