/**
 * One page's list of files for a browser tool: each file's header is read first (type and size,
 * from its first bytes), then jobs go to the web worker pool within a budget of decoded pixels, so a
 * hundred photos, or a few very large ones, never hold more pixels in memory at once than the
 * device can take. Results are Blobs behind object URLs, released when the list is cleared.
 */
import { HEADER_BYTES, readHeader, uprightSize, type DeviceFormat, type PictureHeader } from "./header.js";
import { AbortError, imagePool } from "./pool.js";
import type { DeviceProblem, ImageOutcome, StripOutcome, WorkerJob } from "./protocol.js";
import { problemOf } from "./problems.js";
import { devicePixelLimit } from "./catalogue.js";
import { megapixels } from "./heic.js";
import { t } from "../lib/i18n/index.svelte.js";

export type ItemStatus = "reading" | "ready" | "queued" | "working" | "done" | "failed" | "cancelled";

export interface DeviceResult {
  blob: Blob;
  url: string;
  name: string;
  width: number;
  height: number;
  strip?: StripOutcome;
  decodedSmaller: boolean;
}

export interface DeviceItem {
  key: number;
  file: File;
  status: ItemStatus;
  progress: number;
  /** worded when shown, so it follows a change of language */
  error: DeviceProblem | null;
  header: PictureHeader | null;
  /** what the comparison shows as the original (an object URL; a preview for HEIC) */
  beforeUrl: string | null;
  result: DeviceResult | null;
  controller: AbortController | null;
}

/** What a tool makes of one file: the job, and the output's name from its format. */
export type JobPlan = { job: WorkerJob; name: (outcome: ImageOutcome | StripOutcome) => string } | { error: DeviceProblem };

let nextKey = 1;

export class DeviceBatch {
  items = $state<DeviceItem[]>([]);
  readonly maxPixels = devicePixelLimit();
  private readonly budget = new PixelBudget(this.maxPixels * 2);

  constructor(private readonly accepts: readonly DeviceFormat[]) {}

  get running(): boolean {
    return this.items.some((i) => i.status === "queued" || i.status === "working");
  }

  add(files: File[]): void {
    for (const file of files) {
      const item: DeviceItem = { key: nextKey++, file, status: "reading", progress: 0, error: null, header: null, beforeUrl: null, result: null, controller: null };
      this.items.push(item);
      void this.inspect(this.items[this.items.length - 1]!);
    }
  }

  private async inspect(item: DeviceItem): Promise<void> {
    const header = readHeader(new Uint8Array(await item.file.slice(0, HEADER_BYTES).arrayBuffer()));
    if (!header || !this.accepts.includes(header.format)) {
      item.status = "failed";
      item.error = header ? { code: "notTaken", format: header.format.toUpperCase() } : { code: "notAPicture" };
      return;
    }
    item.header = header;
    if (header.format !== "heic") item.beforeUrl = URL.createObjectURL(item.file);
    item.status = "ready";
  }

  /** Runs every file not yet done; `plan` turns a file into its job. */
  async run(plan: (item: DeviceItem, header: PictureHeader) => JobPlan): Promise<void> {
    const pending = this.items.filter((i) => i.status === "ready" || i.status === "failed" || i.status === "cancelled");
    await Promise.all(pending.filter((i) => i.header).map((item) => this.runOne(item, item.header!, plan)));
  }

  private async runOne(item: DeviceItem, header: PictureHeader, plan: (item: DeviceItem, header: PictureHeader) => JobPlan): Promise<void> {
    const planned = plan(item, header);
    if ("error" in planned) {
      item.status = "failed";
      item.error = planned.error;
      return;
    }
    const controller = new AbortController();
    Object.assign(item, { status: "queued", progress: 0, error: null, controller });
    this.release(item);
    const size = uprightSize(header);
    const pixels = Math.min(size.width * size.height, this.maxPixels);
    let release: (() => void) | undefined;
    try {
      release = await this.budget.acquire(pixels, controller.signal);
      item.status = "working";
      const outcome = await imagePool().run<ImageOutcome | StripOutcome>(planned.job, {
        signal: controller.signal,
        onProgress: (f) => (item.progress = f),
      });
      const blob = new Blob([outcome.bytes], { type: outcome.mime });
      if ("preview" in outcome && outcome.preview) item.beforeUrl = URL.createObjectURL(new Blob([outcome.preview], { type: "image/jpeg" }));
      item.result = {
        blob,
        url: URL.createObjectURL(blob),
        name: planned.name(outcome),
        width: outcome.width,
        height: outcome.height,
        decodedSmaller: "decodedSmaller" in outcome && outcome.decodedSmaller,
        ...("before" in outcome ? { strip: outcome } : {}),
      };
      item.progress = 1;
      item.status = "done";
    } catch (err) {
      item.status = err instanceof AbortError ? "cancelled" : "failed";
      item.error = err instanceof AbortError ? null : problemOf(err);
    } finally {
      release?.();
      item.controller = null;
    }
  }

  cancel(item: DeviceItem): void {
    item.controller?.abort();
  }

  cancelAll(): void {
    for (const item of this.items) item.controller?.abort();
  }

  remove(item: DeviceItem): void {
    item.controller?.abort();
    this.release(item);
    if (item.beforeUrl) URL.revokeObjectURL(item.beforeUrl);
    this.items = this.items.filter((i) => i.key !== item.key);
  }

  clear(): void {
    for (const item of [...this.items]) this.remove(item);
  }

  /** Results of an earlier run are let go before a new one. */
  private release(item: DeviceItem): void {
    if (item.result) URL.revokeObjectURL(item.result.url);
    item.result = null;
  }
}

/** Waits until `pixels` fit in what is left; one picture alone always fits. */
class PixelBudget {
  private used = 0;
  private readonly waiting: { pixels: number; grant: () => void }[] = [];

  constructor(private readonly capacity: number) {}

  acquire(pixels: number, signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.used += pixels;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.used -= pixels;
          this.pump();
        });
      };
      if (this.fits(pixels) && this.waiting.length === 0) return grant();
      const entry = { pixels, grant };
      this.waiting.push(entry);
      signal.addEventListener(
        "abort",
        () => {
          const at = this.waiting.indexOf(entry);
          if (at >= 0) {
            this.waiting.splice(at, 1);
            reject(new AbortError());
          }
        },
        { once: true },
      );
    });
  }

  private fits(pixels: number): boolean {
    return this.used === 0 || this.used + pixels <= this.capacity;
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.pixels)) this.waiting.shift()!.grant();
  }
}

export function describeLimit(maxPixels: number): string {
  return t("device.megapixels", megapixels(maxPixels));
}

/** A problem in the visitor's language; a library's own words, if any, follow the sentence. */
export function describeProblem(problem: DeviceProblem): string {
  const withDetail = (sentence: string, detail: string) => (detail ? t("device.problems.detail", sentence, detail) : sentence);
  switch (problem.code) {
    case "tooLarge":
      return t("device.problems.tooLarge", megapixels(problem.width * problem.height), problem.width, problem.height, megapixels(problem.maxPixels));
    case "malformed":
      return withDetail(t("device.problems.malformed"), problem.detail);
    case "workerStopped":
      return withDetail(t("device.problems.workerStopped"), problem.detail);
    case "zipFailed":
      return withDetail(t("device.problems.zipFailed"), problem.detail);
    case "unexpected":
      return withDetail(t("device.problems.unexpected"), problem.detail);
    case "notTaken":
      return t("device.notTaken", problem.format);
    case "notAPicture":
      return t("device.notAPicture");
    case "heicStrip":
      return t("device.heicStrip");
    default:
      return t(`device.problems.${problem.code}`);
  }
}
