import fs from "node:fs/promises";
import { parsePageRanges } from "../common/tools/page-ranges.js";
import { serveTasks } from "../jobs/worker-main.js";

/**
 * Renders PDF pages with mupdf (WebAssembly) off the event loop. Each task opens the document
 * afresh: tasks are pages, so a run can be cancelled and report progress between them, and no
 * document outlives the task that opened it.
 */
export type PdfTask = { op: "inspect"; input: string; selection: string; limit: number } | { op: "render"; input: string; page: number; width: number; height: number };

/**
 * The page count and the pages a selection names, with their sizes in points (as displayed: crop
 * box, page rotation applied). `pages` is null when the selection names a page that does not
 * exist; sizes are left out when more than `limit` pages are chosen.
 */
export interface PdfInspection {
  pageCount: number;
  pages: number[] | null;
  sizes: Array<{ page: number; width: number; height: number }>;
}

export interface RenderedPage {
  width: number;
  height: number;
  data: Uint8Array; // RGB
}

type Mupdf = typeof import("mupdf");
let mupdf: Mupdf | undefined;

/** Errors the caller turns into 422s; their names travel back through the thread pool. */
class PdfError extends Error {
  constructor(name: "EncryptedPdf" | "InvalidPdf", message: string) {
    super(message);
    this.name = name;
  }
}

serveTasks(async (task: PdfTask) => {
  mupdf ??= await import("mupdf");
  const bytes = await fs.readFile(task.input);
  let doc: InstanceType<Mupdf["Document"]>;
  try {
    doc = mupdf.Document.openDocument(bytes, "application/pdf");
  } catch (err) {
    throw new PdfError("InvalidPdf", (err as Error).message);
  }
  try {
    if (doc.needsPassword()) throw new PdfError("EncryptedPdf", "password required");
    const pageCount = countPages(doc);
    // mupdf repairs what it can; a file with nothing left to show is not a PDF worth rendering.
    if (pageCount < 1) throw new PdfError("InvalidPdf", "no pages");
    if (task.op === "inspect") {
      const pages = parsePageRanges(task.selection, pageCount, task.limit);
      const sizes = pages && pages.length <= task.limit ? pages.map((page) => ({ page, ...pageSize(doc, page) })) : [];
      return { value: { pageCount, pages, sizes } satisfies PdfInspection };
    }
    const page = loadPage(doc, task.page);
    try {
      const [x0, y0, x1, y1] = page.getBounds();
      // A pixmap of exactly the size asked for, and a matrix mapping the page onto it: toPixmap
      // would round the page's edges outward (1241 px for A4 at 150 DPI).
      const pixmap = new mupdf.Pixmap(mupdf.ColorSpace.DeviceRGB, [0, 0, task.width, task.height], false);
      try {
        pixmap.clear(255);
        const matrix = mupdf.Matrix.concat(mupdf.Matrix.translate(-x0, -y0), mupdf.Matrix.scale(task.width / (x1 - x0), task.height / (y1 - y0)));
        const device = new mupdf.DrawDevice(matrix, pixmap);
        try {
          page.run(device, mupdf.Matrix.identity);
          device.close();
        } finally {
          device.destroy();
        }
        const data = packRows(pixmap.getPixels(), task.width, task.height, pixmap.getStride());
        return { value: { width: task.width, height: task.height, data } satisfies RenderedPage, transfer: [data.buffer as ArrayBuffer] };
      } finally {
        pixmap.destroy();
      }
    } finally {
      page.destroy();
    }
  } finally {
    doc.destroy();
  }
});

function countPages(doc: InstanceType<Mupdf["Document"]>): number {
  try {
    return doc.countPages();
  } catch (err) {
    throw new PdfError("InvalidPdf", (err as Error).message);
  }
}

function loadPage(doc: InstanceType<Mupdf["Document"]>, page: number) {
  try {
    return doc.loadPage(page - 1);
  } catch (err) {
    throw new PdfError("InvalidPdf", (err as Error).message);
  }
}

function pageSize(doc: InstanceType<Mupdf["Document"]>, page: number): { width: number; height: number } {
  const loaded = loadPage(doc, page);
  try {
    const [x0, y0, x1, y1] = loaded.getBounds();
    return { width: x1 - x0, height: y1 - y0 };
  } finally {
    loaded.destroy();
  }
}

/** A copy of the pixels, rows packed, in memory the thread can hand over (not the WebAssembly heap). */
function packRows(pixels: Uint8ClampedArray, width: number, height: number, stride: number): Uint8Array {
  const row = width * 3;
  const out = new Uint8Array(row * height);
  if (stride === row) out.set(pixels.subarray(0, out.length));
  else for (let y = 0; y < height; y++) out.set(pixels.subarray(y * stride, y * stride + row), y * row);
  return out;
}
