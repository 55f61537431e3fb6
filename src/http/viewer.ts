import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { AppError } from "../common/errors.js";
import type { ImageRow } from "../db/schema.js";
import type { ImageService } from "../images/service.js";
import { parseRange } from "./range.js";
import { nsfwJson } from "./images.js";
import { unsafeProbability } from "../common/nsfw.js";
import type { PageRenderer } from "./web.js";
import { idParams } from "./schemas.js";

export interface ViewerRouteDeps {
  images: ImageService;
  /** index.html of the web app, which renders the viewer from the JSON API */
  page: PageRenderer;
  publicUrl: string;
  /** NSFW_THRESHOLD: above it, link previews show no picture (P9: blurred until chosen, and a preview cannot blur) */
  nsfwThreshold: number;
}

const IMMUTABLE = "public, max-age=31536000, immutable";
// An image opened directly is its own document: it may show itself and nothing else.
const IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";

export const viewerRoutes: FastifyPluginAsyncZod<ViewerRouteDeps> = async (app, { images, page, publicUrl, nsfwThreshold }) => {
  app.get("/i/:id", { schema: { summary: "Viewer page", tags: ["viewer"], params: idParams } }, async (request, reply) => {
    // The page renders the viewer itself from the JSON API; the status tells crawlers and
    // scripts whether there is an image here, and the tags let link previews show it.
    let status = 200;
    let previewTags: string | undefined;
    try {
      const row = await images.get(request.params.id);
      await countView(images, row, request);
      previewTags = linkPreviewTags(row, publicUrl, nsfwThreshold);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      status = err.status;
    }
    return reply.status(status).header("cache-control", "no-cache").type("text/html; charset=utf-8").send(page(previewTags));
  });

  app.get(
    "/i/:id/raw",
    {
      schema: {
        summary: "The image bytes (supports Range, ETag)",
        tags: ["viewer"],
        params: idParams,
      },
    },
    async (request, reply) => {
      const row = await images.get(request.params.id);
      setImageHeaders(reply, `"${row.etag}"`, row.mime, `${row.id}.${row.ext}`);
      if (notModified(request, `"${row.etag}"`)) return reply.status(304).send();
      const ifRange = request.headers["if-range"];
      const range = ifRange && ifRange !== `"${row.etag}"` ? undefined : parseRange(request.headers.range, row.bytes);
      if (range === "unsatisfiable") {
        // An error about this request only: nothing a cache should keep, or save as the image.
        reply.removeHeader("content-disposition").removeHeader("etag").header("cache-control", "no-store").header("content-range", `bytes */${row.bytes}`);
        throw new AppError("range_not_satisfiable", 416, `The image has ${row.bytes} bytes.`);
      }
      if (!range || range.start === 0) await countView(images, row, request);
      const body = await images.openRaw(row, range);
      if (!range) return reply.header("content-length", row.bytes).send(body);
      return reply
        .status(206)
        .header("content-range", `bytes ${range.start}-${range.end}/${row.bytes}`)
        .header("content-length", range.end - range.start + 1)
        .send(body);
    },
  );

  app.get(
    "/i/:id/thumb",
    { schema: { summary: "WebP thumbnail, at most 400 px", tags: ["viewer"], params: idParams } },
    async (request, reply) => {
      const row = await images.get(request.params.id);
      const etag = `"t-${row.etag}"`;
      setImageHeaders(reply, etag, "image/webp", `${row.id}-thumb.webp`);
      if (notModified(request, etag)) return reply.status(304).send();
      return reply.send(await images.openThumb(row));
    },
  );
};

/**
 * Lets chat apps and social sites show the picture when the link is pasted; says nothing else. A
 * picture the classifier marked sensitive is not offered: the viewer blurs it until the visitor
 * chooses to see it, and a preview in someone's chat could not.
 */
function linkPreviewTags(row: ImageRow, publicUrl: string, nsfwThreshold: number): string {
  const url = `${publicUrl}/i/${row.id}`;
  // The same measure as the viewer's blur: the unsafe classes together, not the top label's own score.
  const nsfw = nsfwJson(row);
  const sensitive = !!nsfw && unsafeProbability(nsfw.scores) > nsfwThreshold;
  const picture: Array<[string, string]> = sensitive
    ? [["twitter:card", "summary"]]
    : [
        ["og:image", `${url}/raw`],
        ["og:image:type", row.mime],
        ["og:image:width", String(row.width)],
        ["og:image:height", String(row.height)],
        ["twitter:card", "summary_large_image"],
      ];
  const tags: Array<[string, string]> = [["og:type", "website"], ["og:title", sensitive ? "Sensitive image on Pixhaven" : "Image on Pixhaven"], ["og:url", url], ...picture];
  return tags.map(([property, content]) => `    <meta property="${property}" content="${escapeAttribute(content)}" />`).join("\n");
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function setImageHeaders(reply: FastifyReply, etag: string, mime: string, filename: string): void {
  reply
    .type(mime)
    .header("etag", etag)
    .header("cache-control", IMMUTABLE)
    .header("accept-ranges", "bytes")
    .header("content-disposition", `inline; filename="${filename}"`)
    .header("content-security-policy", IMAGE_CSP)
    // Hosted images are meant to be embedded on other sites.
    .header("cross-origin-resource-policy", "cross-origin");
}

function notModified(request: FastifyRequest, etag: string): boolean {
  const header = request.headers["if-none-match"];
  return !!header && header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

async function countView(images: ImageService, row: ImageRow, request: FastifyRequest): Promise<void> {
  if (request.method !== "GET") return;
  await images.recordView(row, request.ip, request.headers["user-agent"]);
}
