import fs from "node:fs/promises";
import { type OcrResult, ocrSpec } from "../common/tools/ocr.js";
import { OCR_MODEL, recogniseText } from "../models/ocr.js";
import { decodeCost, decodeFailure } from "./decode.js";
import type { ServerTool } from "./server-tool.js";
import { openUpright } from "./source.js";

/** Tesseract's own time grows with the text: a page of a scanned book takes seconds, a cold thread adds about 1.5 s. */
const MODEL_TIMEOUT_MS = 180_000;
/** What Tesseract holds a pixel while recognising (its grey and binary copies and the LSTM's input), measured loosely. */
const ENGINE_BYTES_PER_PIXEL = 8;

export const ocrTool: ServerTool<typeof ocrSpec> = {
  spec: ocrSpec,
  input: "image",
  models: [OCR_MODEL],
  prepare(input, params, ctx) {
    const pixels = input.header.width * input.header.height;
    return {
      memory: decodeCost(input.header, { kind: "reencode" }) + pixels * ENGINE_BYTES_PER_PIXEL,
      async run() {
        // Upright, on white, one grey channel: what Tesseract binarises anyway, in a fast lossless PNG.
        const png = await (await openUpright(input, ctx))
          .flatten({ background: "#ffffff" })
          .greyscale()
          .png({ compressionLevel: 1 })
          .toBuffer()
          .catch(decodeFailure);
        ctx.checkpoint(0.2);
        const recognised = await recogniseText(ctx.models, new Uint8Array(png.buffer, png.byteOffset, png.byteLength), params.languages, MODEL_TIMEOUT_MS, ctx.signal);
        ctx.checkpoint(0.9);
        const report: OcrResult = { ...recognised, languages: params.languages };
        const files = [];
        if (params.textFile) {
          const file = await ctx.scratch("text.txt");
          await fs.writeFile(file, recognised.text, "utf8");
          files.push({ path: file, format: "text" as const });
        }
        return { files, report: { ...report } };
      },
    };
  },
};
