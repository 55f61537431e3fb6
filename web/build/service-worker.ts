import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import type { Plugin } from "vite";

// The app's logo (the header's), full-bleed so that it also works as a maskable icon.
const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" fill="#1c6b58"/><g transform="translate(4.8 4.8) scale(0.7)"><path d="M7 23l6-8 4 5 3-3 5 6z" fill="#fff"/><circle cx="21.5" cy="10.5" r="2.5" fill="#fff"/></g></svg>`;
export const ICON_SIZES = [192, 512] as const;

/** Every file under `dir`, as URL paths. */
function listFiles(dir: string, prefix = "/"): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full, `${prefix}${name}/`) : [`${prefix}${name}`];
  });
}

/**
 * Builds the service worker (web/src/sw.ts, an extra entry) to /sw.js with the list of files it
 * keeps for offline use: the app's pages, every bundled script, style and .wasm file, and the
 * public files. It also renders the manifest's PNG icons from the logo.
 */
export function serviceWorker(publicDir: string): Plugin {
  return {
    name: "pixhaven-service-worker",
    apply: "build",
    async generateBundle(_options, bundle) {
      for (const size of ICON_SIZES) {
        const png = await sharp(Buffer.from(ICON_SVG), { density: (72 * size) / 32 }).resize(size, size).png().toBuffer();
        this.emitFile({ type: "asset", fileName: `icons/icon-${size}.png`, source: png });
      }
      const sw = Object.values(bundle).find((file) => file.type === "chunk" && file.name === "sw");
      if (!sw || sw.type !== "chunk") return;
      const files = Object.keys(bundle)
        .filter((name) => name !== sw.fileName && !name.endsWith(".map") && !name.endsWith(".html"))
        .map((name) => `/${name}`);
      const precache = [...new Set(["/", "/tools/remove-background/local", ...files, ...listFiles(publicDir)])].sort();
      const build = createHash("sha256").update(precache.join("\n")).digest("hex").slice(0, 16);
      sw.code = sw.code
        .replace(/(["'`])__PIXHAVEN_BUILD__\1/, JSON.stringify(build))
        .replace(/(["'`])__PIXHAVEN_PRECACHE__\1/, JSON.stringify(JSON.stringify(precache)));
    },
  };
}
