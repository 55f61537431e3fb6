import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";
import { RELAXED_SCRIPT_POLICY } from "./security.js";

const NOT_BUILT = `<!doctype html><html><head><meta charset="utf-8"><title>Pixhaven</title></head><body><p>The web interface is not built. Run <code>npm run build</code>.</p></body></html>`;

/** The one page that runs the background-removal model in the browser, under its own script policy. */
export const BACKGROUND_REMOVAL_PAGE = "/tools/remove-background/local";

// The model's files are named by their content hash (resources.json maps names to them).
const contentAddressed = /^[0-9a-f]{64}$/;

/** index.html of the web app, optionally with extra tags in its head (already escaped). */
export type PageRenderer = (extraHead?: string) => string;

/** Serves the built single-page app; returns index.html for the pages it routes itself. */
export async function registerWebApp(app: FastifyInstance, webDir: string): Promise<PageRenderer> {
  const indexFile = path.join(webDir, "index.html");
  const index = existsSync(indexFile) ? readFileSync(indexFile, "utf8") : NOT_BUILT;
  if (existsSync(webDir)) {
    await app.register(fastifyStatic, {
      root: webDir,
      index: false,
      wildcard: true,
      // Vite puts a content hash in every asset name under assets/, so they never change.
      // The model chunks under models/ are content-addressed too; resources.json, sw.js and the
      // HTML are revalidated on every use.
      setHeaders: (res, file) => {
        const immutable =
          file.startsWith(path.join(webDir, "assets") + path.sep) ||
          (file.startsWith(path.join(webDir, "models") + path.sep) && contentAddressed.test(path.basename(file)));
        res.header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
      },
    });
  }
  const page: PageRenderer = (extraHead) => (extraHead ? index.replace("</head>", `${extraHead}\n  </head>`) : index);
  const sendPage = async (_request: unknown, reply: FastifyReply) => reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(page());
  // The pages the app routes itself (web/src/lib/router.svelte.ts); /i/:id has its own route.
  for (const url of ["/", "/tools", "/tools/:page", "/account", "/account/:page", "/privacy", "/contact"]) app.get(url, { schema: { hide: true } }, sendPage);
  const localFile = path.join(webDir, "remove-background.html");
  const local = existsSync(localFile) ? readFileSync(localFile, "utf8") : NOT_BUILT;
  app.get(BACKGROUND_REMOVAL_PAGE, { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-cache")
      .header("content-security-policy", RELAXED_SCRIPT_POLICY)
      .send(local),
  );
  return page;
}
