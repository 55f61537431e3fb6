import { AppError } from "../common/errors.js";
import { ThreadPool, WorkerTaskError, WorkerTimeoutError } from "../jobs/thread-pool.js";
import type { PdfInspection, PdfTask, RenderedPage } from "./pdf.worker.js";

export type { PdfInspection, RenderedPage } from "./pdf.worker.js";

/** Typed front of the PDF threads; turns their failures into Pixhaven errors. */
export class PdfThreads {
  private readonly pool: ThreadPool;

  constructor(
    size: number,
    private readonly timeoutMs: number,
  ) {
    this.pool = new ThreadPool(ThreadPool.moduleNextTo(import.meta.url, "pdf.worker"), size);
  }

  inspect(input: string, selection: string, limit: number): Promise<PdfInspection> {
    return this.run<PdfInspection>({ op: "inspect", input, selection, limit });
  }

  /**
   * One page at exactly width×height pixels. `last` ends the thread afterwards: mupdf's
   * WebAssembly heap only grows, and a run's largest page should not stay held once it is done.
   */
  render(input: string, page: number, size: { width: number; height: number }, last: boolean): Promise<RenderedPage> {
    return this.run<RenderedPage>({ op: "render", input, page, ...size }, last);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async run<T>(task: PdfTask, recycle = false): Promise<T> {
    try {
      return await this.pool.run<T>(task, { timeoutMs: this.timeoutMs, recycle });
    } catch (err) {
      if (err instanceof WorkerTimeoutError) throw new AppError("pdf_timeout", 422, "The PDF took too long to render.");
      if (err instanceof WorkerTaskError && err.errorName === "EncryptedPdf") throw new AppError("encrypted_pdf", 422, "The PDF is encrypted; remove its password and try again.");
      if (err instanceof WorkerTaskError) throw new AppError("invalid_pdf", 422, "The PDF is broken or not a PDF and could not be read.");
      throw err;
    }
  }
}
