import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

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
