import { z } from "zod";
import { PAGE_SELECTION, rangesAscend } from "./page-ranges.js";
import { defineToolSpec } from "./tool.js";

export const MAX_PDF_PAGES = 50;

export const pdfToImagesSpec = defineToolSpec({
  name: "pdf-to-images",
  title: "PDF to images",
  description:
    "Renders chosen pages of a PDF as PNG, JPEG or WebP at a chosen resolution: an A4 page at 150 DPI is exactly 1240x1754 pixels. Encrypted PDFs are refused.",
  runsOn: "server",
  params: z.strictObject({
    pages: z
      .string()
      .max(200)
      .regex(PAGE_SELECTION, "Write pages as all, or numbers and ranges counted from 1, e.g. 1-3,5.")
      .refine(rangesAscend, "A range goes from its lower page to its higher, e.g. 1-3 (not 3-1).")
      .default("all")
      .describe(`Pages to render: all, or numbers and ranges counted from 1, e.g. 1-3,5. At most ${MAX_PDF_PAGES} pages.`),
    dpi: z.number().int().min(18).max(600).default(150).describe("Resolution in dots per inch: the page's size in inches times this is its size in pixels."),
    format: z.enum(["png", "jpeg", "webp"]).default("png").describe("Image format of each page."),
    quality: z.number().int().min(1).max(100).optional().describe("JPEG or WebP quality (defaults 82 and 80); ignored for PNG."),
  }),
  accepts: ["application/pdf"],
  limits: { maxPages: MAX_PDF_PAGES, maxOutputPixels: 100_000_000 },
});
