import fs from "node:fs/promises";
import { AppError } from "../common/errors.js";
import type { OutputFormat } from "../common/tools/encoding.js";
import { type MetadataCategory, exifCategories, labelCategory, sortCategories } from "../common/tools/metadata-report.js";
import { stripSpec } from "../common/tools/strip.js";
import { decodeCost, decodeFailure, openUntrusted } from "./decode.js";
import { encode } from "./encode.js";
import { framesInput } from "./orient.js";
import type { ImageInput, ServerTool, ServerToolContext } from "./server-tool.js";
import { openUpright, uprightFrames } from "./source.js";

type Method = "lossless" | "lossless-rotation" | "re-encoded";

export const stripTool: ServerTool<typeof stripSpec> = {
  spec: stripSpec,
  input: "image",
  prepare(input, _params, ctx) {
    const format = input.format as OutputFormat; // the spec accepts no HEIC
    const turn = input.header.orientation !== 1;
    return {
      // The remover holds the file and its copy in a thread; turning may decode and re-encode.
      memory: Math.max(2 * input.bytes, turn ? decodeCost(input.header, { kind: "reencode" }) : 0),
      async run() {
        const found = await categoriesIn(input, ctx);
        ctx.checkpoint(0.2);
        const lossless = await stripLosslessly(input, ctx);
        for (const label of lossless.removed) {
          const category = labelCategory(label);
          if (category) found.add(category);
        }
        ctx.checkpoint(0.5);
        // AVIF boxes that cannot be edited safely are re-encoded; other containers that cannot be walked are broken.
        if (!lossless.readable && format !== "avif") throw new AppError("invalid_image", 422, "The image is corrupt or truncated.");
        const file = lossless.file ?? (await reencodeUpright(input, format, ctx));
        const method: Method = lossless.method ?? "re-encoded";
        const bytes = (await fs.stat(file)).size;
        return {
          files: [{ path: file, format }],
          report: {
            found: sortCategories(found),
            orientation: turn ? { tag: input.header.orientation, applied: true } : null,
            pixels: method === "lossless" ? "identical" : method === "lossless-rotation" ? "identical, turned losslessly" : "re-encoded at high quality",
            bytesBefore: input.bytes,
            bytesAfter: bytes,
          },
        };
      },
    };
  },
};

/**
 * The input's own compressed data without its metadata, turned upright losslessly when its
 * orientation says so (JPEG): `file` is absent when that cannot be done without re-encoding, and
 * `readable` false when the container could not be walked at all.
 */
export async function stripLosslessly(
  input: ImageInput,
  ctx: ServerToolContext,
): Promise<{ readable: boolean; removed: string[]; file?: string; method?: Exclude<Method, "re-encoded"> }> {
  const stripped = await ctx.scratch("stripped");
  const result = await ctx.threads.strip(input.path, stripped, input.format as OutputFormat);
  if (!result) return { readable: false, removed: [] };
  if (input.header.orientation === 1) return { readable: true, removed: result.removed, file: stripped, method: "lossless" };
  // The stripped copy no longer says how to turn; the orientation is passed along.
  const turned = await ctx.scratch("turned");
  const rotated = input.format === "jpeg" ? await ctx.threads.rotateJpeg(stripped, turned, input.header.orientation, ctx.limits.maxPixels) : null;
  return rotated ? { readable: true, removed: result.removed, file: turned, method: "lossless-rotation" } : { readable: true, removed: result.removed };
}

/** Reads the metadata before removing it, to name its kinds; the values are never kept. */
async function categoriesIn(input: ImageInput, ctx: ServerToolContext): Promise<Set<MetadataCategory>> {
  const meta = await openUntrusted(input.path, ctx.limits).metadata().catch(decodeFailure);
  const found = meta.exif ? exifCategories(meta.exif) : new Set<MetadataCategory>();
  if (meta.xmp) found.add("XMP");
  if (meta.iptc) found.add("IPTC");
  if (meta.comments?.length) found.add("descriptions and comments");
  return found;
}

/** Pixels turned upright and written at high quality in the same format; animations frame by frame. */
async function reencodeUpright(input: ImageInput, format: OutputFormat, ctx: ServerToolContext): Promise<string> {
  const out = await ctx.scratch("upright");
  const lossless = format === "webp" && Buffer.from(input.head).includes("VP8L", 12, "latin1");
  // PNG and GIF stay lossless: a quality would quantise their palette.
  const quality = format === "jpeg" || format === "webp" ? 92 : format === "avif" ? 70 : undefined;
  const options = { quality, lossless, chromaSubsampling: input.header.chromaSubsampling === "4:4:4" ? "4:4:4" : "4:2:0", mozjpeg: false, background: "#ffffff" } as const;
  if (input.header.frames > 1 && (format === "webp" || format === "gif")) {
    const frames = await uprightFrames(input, ctx);
    await encode(framesInput(frames), format, options, input.header).toFile(out).catch(decodeFailure);
  } else {
    await encode(await openUpright(input, ctx), format, options, input.header).toFile(out).catch(decodeFailure);
  }
  return out;
}
