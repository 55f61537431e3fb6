import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Tesseract from "tesseract.js";
import { OCR_LANGUAGES, type OcrBox, type OcrLanguage, type OcrResult } from "../common/tools/ocr.js";
import { traineddataFile } from "./ocr.js";
import { packageDir } from "./packages.js";
import type { ModelHandler } from "./registry.js";

interface Engine {
  worker: Tesseract.Worker;
  /** the languages the engine is initialised with now, e.g. "eng+fra" */
  current: string;
}

/**
 * Tesseract reads every language from one folder, but each language ships in its own package: a
 * private temporary folder of links to them is built, all three are read into the engine at once,
 * and the folder is removed again. `cacheMethod: "none"` keeps Tesseract from writing the data
 * into the working directory; with a local langPath it fetches nothing.
 */
async function startEngine(): Promise<Engine> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-ocr-"));
  try {
    for (const lang of OCR_LANGUAGES) {
      const dir = packageDir(`@tesseract.js-data/${lang}`);
      if (!dir) throw new Error(`@tesseract.js-data/${lang} is not installed`);
      await fs.symlink(path.join(dir, traineddataFile(lang)), path.join(folder, `${lang}.traineddata.gz`));
    }
    const all = OCR_LANGUAGES.join("+");
    const worker = await Tesseract.createWorker(all, Tesseract.OEM.LSTM_ONLY, {
      langPath: folder,
      gzip: true,
      cacheMethod: "none",
      // Tesseract's own worker errors reject the job; nothing is printed.
      errorHandler: () => undefined,
    });
    return { worker, current: all };
  } finally {
    await fs.rm(folder, { recursive: true, force: true });
  }
}

const box = (b: Tesseract.Bbox): OcrBox => ({ x0: b.x0, y0: b.y0, x1: b.x1, y1: b.y1 });
const round = (n: number) => Math.round(n * 10) / 10;

/**
 * One Tesseract engine per model thread, started on the first task and kept warm: switching the
 * languages re-initialises it (0.2-0.5 s) without reading their data again. Tesseract runs in a
 * thread of its own, a child of the model thread, so it ends with it.
 */
export const handler: ModelHandler<{ image: ArrayBuffer; languages: OcrLanguage[] }, Omit<OcrResult, "languages">, Engine> = {
  load: startEngine,
  async run(engine, { image, languages }) {
    const wanted = languages.join("+");
    if (engine.current !== wanted) {
      await engine.worker.reinitialize(wanted, Tesseract.OEM.LSTM_ONLY);
      engine.current = wanted;
    }
    const { data } = await engine.worker.recognize(Buffer.from(image), {}, { text: true, blocks: true });
    const lines = (data.blocks ?? []).flatMap((b) => b.paragraphs.flatMap((p) => p.lines));
    const words = lines.flatMap((l) => l.words).filter((w) => w.text.trim() !== "");
    return {
      value: {
        text: data.text,
        confidence: words.length ? round(words.reduce((sum, w) => sum + w.confidence, 0) / words.length) : 0,
        words: words.map((w) => ({ text: w.text, confidence: round(w.confidence), bbox: box(w.bbox) })),
        lines: lines.map((l) => ({ text: l.text.trim(), confidence: round(l.confidence), bbox: box(l.bbox) })),
      },
    };
  },
};
