import { AppError } from "../common/errors.js";
import { pdfToImagesSpec } from "../common/tools/pdf-to-images.js";
import { decodeFailure, openPixels } from "./decode.js";
import { encode, invalidParam } from "./encode.js";
import type { ProducedFile, ServerTool } from "./server-tool.js";

const MiB = 1024 * 1024;
/** mupdf's own heap besides the page: fonts, decoded page images, the display list. */
const RENDERER_OVERHEAD = 96 * MiB;
const POINTS_PER_INCH = 72;

export const pdfToImagesTool: ServerTool<typeof pdfToImagesSpec> = {
  spec: pdfToImagesSpec,
  input: "pdf",
  async prepare(input, params, ctx) {
    const { pageCount, pages, sizes } = await ctx.pdf.inspect(input.path, params.pages, ctx.limits.maxPages);
    if (!pages) throw invalidParam("pages", `${JSON.stringify(params.pages)} names a page the PDF does not have; it has ${pageCount} page${pageCount === 1 ? "" : "s"}.`);
    if (pages.length > ctx.limits.maxPages) {
      throw new AppError("too_many_pages", 413, `At most ${ctx.limits.maxPages} pages are rendered at once; ${params.pages === "all" ? `the PDF has ${pageCount}` : "the selection names more"}. Choose pages, e.g. 1-${ctx.limits.maxPages}.`);
    }
    // The pixel size the DPI implies, rounded to the nearest pixel: A4 at 150 DPI is 1240×1754.
    const targets = sizes.map(({ page, width, height }) => ({
      page,
      width: Math.max(1, Math.round((width * params.dpi) / POINTS_PER_INCH)),
      height: Math.max(1, Math.round((height * params.dpi) / POINTS_PER_INCH)),
    }));
    for (const t of targets) {
      if (t.width * t.height > ctx.limits.maxOutputPixels) {
        throw new AppError("too_many_pixels", 413, `Page ${t.page} at ${params.dpi} DPI would be ${t.width}×${t.height} pixels; the limit is ${ctx.limits.maxOutputPixels} pixels. Choose a lower DPI.`);
      }
    }
    const largest = Math.max(0, ...targets.map((t) => t.width * t.height));
    return {
      // The page in mupdf's heap, its copy handed over, and sharp's encoding of it.
      memory: largest * 3 * 3 + RENDERER_OVERHEAD,
      async run() {
        const files: ProducedFile[] = [];
        for (const [i, target] of targets.entries()) {
          ctx.checkpoint(0.05 + (0.9 * i) / targets.length);
          const rendered = await ctx.pdf.render(input.path, target.page, target, i === targets.length - 1);
          const file = await ctx.scratch(`page-${target.page}`);
          const image = openPixels(rendered.data, { width: rendered.width, height: rendered.height, channels: 3 });
          const options = { quality: params.quality, lossless: false, chromaSubsampling: "4:2:0", mozjpeg: false, background: "#ffffff" } as const;
          await encode(image, params.format, params.format === "png" ? { ...options, quality: undefined } : options).toFile(file).catch(decodeFailure);
          files.push({ path: file, format: params.format, suffix: `p${target.page}` });
        }
        return { files, report: { pageCount, pages: targets.map((t) => t.page), dpi: params.dpi } };
      },
    };
  },
};
