/**
 * What the page and the image web workers say to each other. Jobs carry the picture as a Blob (a
 * File is cloned by reference, so its bytes are read once, inside the web worker) and fractions
 * rather than pixels, so a picture decoded smaller than it is still gets the crop it was given.
 */
import type { DeviceFormat } from "./header.js";

export type EncodeFormat = "jpeg" | "png" | "webp" | "avif";

export interface EncodeSettings {
  format: EncodeFormat;
  /** 1-100; ignored for PNG (OxiPNG is lossless) and lossless WebP/AVIF */
  quality: number;
  lossless: boolean;
  /** WebP 0-6, AVIF 0-9, PNG 0-6 */
  effort: number;
  chroma: "4:2:0" | "4:4:4";
  /** #rrggbb behind transparent areas, for JPEG */
  background: string;
}

/** A rectangle in fractions (0..1) of the upright picture. */
export interface FractionRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type ResizeRequest =
  | { by: "percent"; percent: number; withoutEnlargement: boolean }
  | { by: "size"; width?: number; height?: number; fit: "inside" | "cover" | "fill"; withoutEnlargement: boolean };

export interface ImageJob {
  kind: "image";
  file: Blob;
  format: DeviceFormat;
  /** upright size read from the header, before decoding */
  source: { width: number; height: number };
  crop?: FractionRect;
  rotate: 0 | 90 | 180 | 270;
  flipH: boolean;
  flipV: boolean;
  resize?: ResizeRequest;
  encode: EncodeSettings;
  /** Decoding above this many pixels is refused, or done smaller when the output is smaller anyway. */
  maxPixels: number;
}

export interface ImageOutcome {
  bytes: ArrayBuffer;
  mime: string;
  width: number;
  height: number;
  /** A JPEG the page can show as "before" when the browser cannot show the input (HEIC). */
  preview?: ArrayBuffer;
  /** the picture was decoded smaller than it is, to stay within memory */
  decodedSmaller: boolean;
}

/** What the metadata reader tells the page: values, so the person sees what would have travelled. */
export interface MetadataFound {
  location?: { latitude: number; longitude: number; altitude?: number };
  camera?: string;
  lens?: string;
  serial?: string;
  dates: string[];
  author: string[];
  software?: string;
  /** orientation tag 1-8 when present */
  orientation?: number;
  /** every kind of data present, named by category */
  categories: string[];
}

export interface StripJob {
  kind: "strip";
  file: Blob;
  format: Exclude<DeviceFormat, "heic">;
  maxPixels: number;
}

export interface StripOutcome {
  bytes: ArrayBuffer;
  mime: string;
  width: number;
  height: number;
  before: MetadataFound;
  /** the result read back with the same reader and walked by the remover again */
  after: MetadataFound;
  afterRemovable: string[];
  method: "lossless" | "lossless-rotation" | "re-encoded";
}

/** Loads and starts the encoders a page is about to need, so they work without the network later. */
export interface WarmJob {
  kind: "warm";
  formats: EncodeFormat[];
  heic: boolean;
}

export type WorkerJob = ImageJob | StripJob | WarmJob;

/**
 * Why a file failed. Web workers speak no language: they report a code and its values, and the
 * page says it in the visitor's language (the catalogue's device.problems). `detail` is a library's
 * own words (a decoder's, the browser's), shown after the sentence for whoever reports a bug.
 */
export type DeviceProblem =
  | { code: "tooLarge"; width: number; height: number; maxPixels: number }
  | { code: "undecodable" }
  | { code: "noCanvas" }
  | { code: "heicEmpty" }
  | { code: "heicUndecodable" }
  | { code: "malformed"; detail: string }
  | { code: "workerStopped"; detail: string }
  | { code: "zipFailed"; detail: string }
  | { code: "unexpected"; detail: string }
  // found on the page, before any web worker
  | { code: "notTaken"; format: string }
  | { code: "notAPicture" }
  | { code: "heicStrip" };


export type WorkerRequest = { id: number; job: WorkerJob };
export type WorkerReply =
  | { id: number; progress: number }
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; problem: DeviceProblem };
