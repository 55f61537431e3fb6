import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Pixhaven</title><p>The web interface is not built. Run <code>npm run build</code>.</p>`;

/** Serves the built single-page app; returns index.html for the pages it routes itself. */
export async function registerWebApp(app: FastifyInstance, webDir: string): Promise<() => string> {
  const indexFile = path.join(webDir, "index.html");
  const index = existsSync(indexFile) ? readFileSync(indexFile, "utf8") : NOT_BUILT;
  if (existsSync(webDir)) {
    await app.register(fastifyStatic, {
      root: webDir,
      index: false,
      wildcard: true,
      // Vite puts a content hash in every asset name under assets/, so they never change.
      setHeaders: (res, file) => {
        const immutable = file.startsWith(path.join(webDir, "assets") + path.sep);
        res.header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
      },
    });
  }
  const page = () => index;
  app.get("/", { schema: { hide: true } }, async (_request, reply) => reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(page()));
  return page;
}
