import { z } from "zod";
import { IMAGE_TYPES } from "./encoding.js";
import { defineToolSpec } from "./tool.js";

/** The languages whose Tesseract data ships with Pixhaven (npm packages @tesseract.js-data/<code>). */
export const OCR_LANGUAGES = ["eng", "fra", "deu"] as const;
export type OcrLanguage = (typeof OCR_LANGUAGES)[number];

export interface OcrBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface OcrWord {
  text: string;
  /** 0..100 */
  confidence: number;
  /** in pixels of the upright picture */
  bbox: OcrBox;
}

export interface OcrLine {
  text: string;
  confidence: number;
  bbox: OcrBox;
}

/** The report of an OCR run. */
export interface OcrResult {
  text: string;
  /** mean word confidence, 0..100 */
  confidence: number;
  languages: OcrLanguage[];
  words: OcrWord[];
  lines: OcrLine[];
}

export const ocrSpec = defineToolSpec({
  name: "ocr",
  title: "Text recognition (OCR)",
  description:
    "Reads the text in an image with Tesseract (LSTM, English, French and German data) on this server. The report holds the text, its confidence and every word and line with its box; the text is also delivered as a .txt file unless turned off.",
  runsOn: "server",
  params: z.strictObject({
    languages: z
      .array(z.enum(OCR_LANGUAGES))
      .min(1)
      .max(OCR_LANGUAGES.length)
      .default(["eng"])
      .describe("Languages of the text, one or more of eng, fra, deu; give every language the picture holds (each one more makes recognition slower)."),
    textFile: z.boolean().default(true).describe("Also deliver the text as a UTF-8 .txt file beside the report."),
  }),
  accepts: IMAGE_TYPES,
  limits: { maxInputPixels: 40_000_000 },
});
