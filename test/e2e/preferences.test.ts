import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Request } from "playwright-core";
import { launchChromium, openWatchedPage, type PageLog, skipBrowser } from "../helpers/browser.js";
import { startTestServer } from "../helpers/server.js";
import { plainJpeg } from "../fixtures/images.js";

(skipBrowser ? describe.skip : describe)("preferences and languages in Chromium", () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;

  beforeAll(async () => {
    srv = await startTestServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  it("P3: preferences survive a reload and travel in no request", async () => {
    const log: PageLog = { requests: [], cspReports: [], pageErrors: [] };
    const { context, page } = await openWatchedPage(browser, log);
    const requests: Request[] = [];
    context.on("request", (req) => requests.push(req));

    await page.goto(srv.baseUrl + "/");
    await page.getByRole("heading", { name: "Share an image" }).waitFor();
    await page.getByLabel("Language").selectOption("fr");
    await page.getByRole("heading", { name: "Partager une image" }).waitFor();
    await page.getByRole("button", { name: /^Thème : Système/ }).click(); // system -> light
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");

    await page.reload();
    await page.getByRole("heading", { name: "Partager une image" }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("fr");
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
    await page.getByRole("button", { name: /^Thème : Clair/ }).waitFor();
    expect(await page.evaluate(() => [localStorage.getItem("pixhaven.language"), localStorage.getItem("pixhaven.theme")])).toEqual(["fr", "light"]);
    // Other pages of the app honour them too.
    await page.goto(srv.baseUrl + "/tools/remove-background/local");
    await page.getByRole("heading", { name: "Supprimer l’arrière-plan", level: 1 }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");

    // No request carries them: not in an address, a header (cookies included) or a body.
    const sent = await Promise.all(
      requests.map(async (req) => ({ url: req.url(), headers: await req.allHeaders().catch(() => req.headers()), body: req.postData() })),
    );
    expect(sent.length).toBeGreaterThan(5);
    expect((await context.cookies()).length).toBe(0);
    for (const r of sent) {
      const url = new URL(r.url);
      expect(url.search, r.url).not.toMatch(/lang|theme|light|fr\b/i);
      for (const [name, value] of Object.entries(r.headers)) {
        if (name === "accept-language") continue; // the browser's own setting (en-US here), not the preference
        expect(`${name}: ${value}`, r.url).not.toMatch(/pixhaven\.|theme|language=|\blight\b/i);
      }
      expect(r.headers.cookie, r.url).toBeUndefined();
      expect(r.body, r.url).toBeNull();
    }
    expect(sent.every((r) => !r.headers["accept-language"] || r.headers["accept-language"].startsWith("en-US"))).toBe(true);
    expect(log.cspReports).toEqual([]);
    await context.close();
  });

  it("the language switcher changes every visible string on the home page and tools index and sets <html lang>", async () => {
    const log: PageLog = { requests: [], cspReports: [], pageErrors: [] };
    const { context, page } = await openWatchedPage(browser, log);
    await page.goto(srv.baseUrl + "/");
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("en");
    const english = ["Share an image", "Location, camera and date metadata is removed", "Upload", "Tools", "Pixhaven · private image hosting"];
    for (const text of english) await page.getByText(text).first().waitFor();

    await page.getByLabel("Language").selectOption("fr");
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("fr");
    await page.getByRole("heading", { name: "Partager une image" }).waitFor();
    for (const text of ["Les métadonnées de lieu, d’appareil et de date", "Déposez des images ici", "Pixhaven · hébergement d’images privé"]) {
      await page.getByText(text).first().waitFor();
    }
    await page.getByRole("link", { name: "Envoyer", exact: true }).waitFor();
    await page.getByRole("link", { name: "Outils", exact: true }).waitFor();
    const body = await page.locator("body").innerText();
    for (const text of english) expect(body).not.toContain(text);
    expect(await page.title()).toBe("Pixhaven · partage d’images privé");

    await page.getByRole("link", { name: "Outils", exact: true }).click();
    await page.getByRole("heading", { name: "Outils d’image", level: 1 }).waitFor();
    await page.getByText("Convertir, compresser, redimensionner").waitFor();
    await page.getByText("Les tâches lancées depuis ce navigateur").waitFor();
    expect(await page.locator("body").innerText()).not.toContain("Image tools");

    // And back, without a reload.
    await page.getByLabel("Langue").selectOption("en");
    await page.getByRole("heading", { name: "Image tools", level: 1 }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("en");
    expect(log.pageErrors).toEqual([]);
    await context.close();
  });

  it("P18: no analytics or advertising is loaded, so there is nothing to consent to: every page a visitor opens asks only this origin, sets no cookie and runs no foreign script", async () => {
    const log: PageLog = { requests: [], cspReports: [], pageErrors: [] };
    const { context, page } = await openWatchedPage(browser, log);
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(await plainJpeg(32, 32, 18))]), "p18.jpg");
    const { id } = await (await fetch(`${srv.baseUrl}/api/v1/images`, { method: "POST", body: form })).json();
    for (const path of ["/", "/tools", "/tools/compress", "/tools/upscale?on=server", "/tools/history", `/i/${id}`, "/account/sign-in", "/docs"]) {
      await page.goto(srv.baseUrl + path);
      await page.waitForLoadState("networkidle");
      const scripts = await page.evaluate(() => Array.from(document.scripts, (s) => s.src).filter(Boolean));
      for (const src of scripts) expect(new URL(src).origin, `${path}: ${src}`).toBe(new URL(srv.baseUrl).origin);
    }
    const origin = new URL(srv.baseUrl).origin;
    const network = log.requests.filter((url) => !url.startsWith("data:") && !url.startsWith("blob:"));
    expect(network.length).toBeGreaterThan(8);
    expect(network.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(await context.cookies()).toEqual([]);
    expect(log.cspReports).toEqual([]);
    await context.close();
  });
});
