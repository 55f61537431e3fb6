import { OCR_LANGUAGES, type OcrLanguage, type OcrResult } from "../common/tools/ocr.js";
import { missingFiles } from "./packages.js";
import type { ModelThreads } from "./pool.js";

/** Tesseract, main-thread side: its files and the call. The engine runs in a model thread (ocr.model.ts). */
export const OCR_MODEL = "ocr";

/** Where each language's LSTM data lies inside its package. */
export function traineddataFile(lang: OcrLanguage): string {
  return `4.0.0_best_int/${lang}.traineddata.gz`;
}

export async function probeOcr(): Promise<string | null> {
  const core = await missingFiles("tesseract.js", ["src/worker-script/node/index.js"]);
  if (core) return core;
  for (const lang of OCR_LANGUAGES) {
    const missing = await missingFiles(`@tesseract.js-data/${lang}`, [traineddataFile(lang)]);
    if (missing) return missing;
  }
  return null;
}

/** Recognises the text of an encoded image (PNG); its bytes are transferred to the thread. */
export function recogniseText(models: ModelThreads, image: Uint8Array, languages: readonly OcrLanguage[], timeoutMs: number, signal?: AbortSignal): Promise<Omit<OcrResult, "languages">> {
  const own = image.byteOffset === 0 && image.byteLength === image.buffer.byteLength ? image : image.slice();
  const buffer = own.buffer as ArrayBuffer;
  return models.run(OCR_MODEL, { image: buffer, languages: [...languages] }, { timeoutMs, transfer: [buffer], ...(signal ? { signal } : {}) });
}
