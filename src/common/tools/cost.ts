/**
 * What a run's time depends on beyond its size, so an expected time is taken from runs like it:
 * restore's mode (seconds against minutes), upscale's model and scale (the best model is about 15×
 * slower than the fast one), background removal's model, OCR's number of languages. Shared by the
 * server (which groups its measured runs by it) and the pages (which look up the rate of the params
 * chosen).
 */
export function costKey(tool: string, params: Record<string, unknown>): string {
  switch (tool) {
    case "restore":
      return String(params.mode ?? "fast");
    case "upscale":
      return `${String(params.model ?? "fast")}-x${String(params.scale ?? 2)}`;
    case "remove-background":
      return String(params.model ?? "medium");
    case "ocr":
      return `languages-${Array.isArray(params.languages) ? params.languages.length : 1}`;
    default:
      return "";
  }
}

/** Pixels a run works on: a rectangle's when the params choose one (restore, crop), the picture's otherwise. */
export function workPixels(params: Record<string, unknown>, picturePixels: number): number {
  const rect = params.rect as { width?: unknown; height?: unknown } | undefined;
  return rect && typeof rect.width === "number" && typeof rect.height === "number" ? rect.width * rect.height : picturePixels;
}

/** Runs on pictures smaller than this say more about a job's fixed cost than about its cost per pixel. */
export const MIN_RATE_PIXELS = 10_000;

/**
 * Restore's seconds per megapixel, measured: fast is libvips on its thread pool (a 12 MP JPEG in
 * about 4 s, decode and encode included, on 2 busy cores); ai is MAXIM on one model thread (0.75 ms
 * a pixel it sees), and a server with N model threads takes about 1/N of it. Shown before a run
 * starts (its spec's description says it).
 */
export const RESTORE_SECONDS_PER_MEGAPIXEL = { fast: 0.35, ai: 750 } as const;

/**
 * Upscale's seconds per input megapixel on one model thread (one idle core) at 4x: 61 tiles, each
 * seeing 160² pixels with its overlap, measured on ONNX Runtime at 0.14 s (slim), 0.27 s (medium)
 * and 2.2 s (thick) a tile. A server with N model threads takes about 1/N of it.
 */
export const UPSCALE_SECONDS_PER_MEGAPIXEL = { fast: 9, balanced: 17, best: 140 } as const;
