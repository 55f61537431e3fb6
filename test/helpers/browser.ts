import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const hasChromium = existsSync(CHROMIUM);

/** Browser suites skip only when Chromium is missing AND the skip is asked for; otherwise they fail loudly. */
export const skipBrowser = !hasChromium && process.env.PIXHAVEN_SKIP_BROWSER === "1";
if (skipBrowser) console.warn(`Skipping browser tests: ${CHROMIUM} is missing and PIXHAVEN_SKIP_BROWSER=1 is set.`);

export async function launchChromium(): Promise<Browser> {
  if (!hasChromium) {
    throw new Error(
      `Chromium is required for the end-to-end tests but ${CHROMIUM} does not exist. ` +
        "Install it (apt-get install chromium) or set PIXHAVEN_SKIP_BROWSER=1 to skip these tests.",
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** What a page did that the tests check: every request, CSP violations and script errors. */
export interface PageLog {
  requests: string[];
  cspReports: string[];
  pageErrors: string[];
}

/**
 * A fresh context (fixed locale, so formatted sizes and dates are predictable) and a page recording
 * into `log`. The service worker is blocked unless a test is about it: installing it downloads every
 * codec into a fresh cache, which each new context would otherwise pay for.
 */
export async function openWatchedPage(browser: Browser, log: PageLog, options: { serviceWorker?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: "en-US", serviceWorkers: options.serviceWorker ? "allow" : "block" });
  // Runs before any page script, so violations during startup are caught too.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`securitypolicyviolation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.on("request", (req) => log.requests.push(req.url()));
  page.on("pageerror", (err) => log.pageErrors.push(err.message));
  page.on("console", (msg) => {
    const text = msg.text();
    if (text.includes("Content Security Policy") || text.includes("securitypolicyviolation")) log.cspReports.push(text);
  });
  return { context, page };
}

/** Fills a tool form's "Rectangle to keep" (crop, restore) as a user types it. */
export async function fillRectangle(page: Page, rect: { x: number; y: number; width: number; height: number }): Promise<void> {
  const group = page.getByRole("group", { name: "Rectangle to keep" });
  await group.getByLabel("Left (x)").fill(String(rect.x));
  await group.getByLabel("Top (y)").fill(String(rect.y));
  await group.getByLabel("Width (pixels)").fill(String(rect.width));
  await group.getByLabel("Height (pixels)").fill(String(rect.height));
}

/** axe-core, the accessibility engine, evaluated inside a page (so the page's CSP does not apply to it). */
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The page's serious and critical accessibility findings, one line each (rule, help, where, why). */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  type Violation = { id: string; impact: string | null; help: string; nodes: Array<{ target: string[]; failureSummary?: string }> };
  const violations = await page.evaluate(async () => ((await (window as any).axe.run(document, { resultTypes: ["violations"] })) as { violations: Violation[] }).violations);
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}: ${v.nodes[0]?.failureSummary?.replace(/\s+/g, " ")}`);
}
