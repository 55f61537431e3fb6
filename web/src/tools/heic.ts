/**
 * HEIC/HEIF decoding with libheif compiled to WebAssembly, inside a web worker. Browsers (but
 * Safari) cannot decode HEVC themselves, and heic2any needs 'unsafe-eval', which Pixhaven's CSP
 * refuses; libheif only needs 'wasm-unsafe-eval'. The picture comes out upright (libheif applies
 * the container's rotation and mirroring).
 */
import libheifFactory from "libheif-js/libheif-wasm/libheif.js";
import wasmUrl from "libheif-js/libheif-wasm/libheif.wasm?url";
import { DeviceFailure, TooLargeError } from "./problems.js";

interface HeifImage {
  get_width(): number;
  get_height(): number;
  display(target: { data: Uint8ClampedArray; width: number; height: number }, done: (result: { data: Uint8ClampedArray } | null) => void): void;
  free(): void;
}
interface Libheif {
  ready?: Promise<unknown>;
  HeifDecoder: new () => { decode(bytes: Uint8Array): HeifImage[]; decoder: { delete(): void } };
}

let libheif: Promise<Libheif> | undefined;

export function loadHeif(): Promise<Libheif> {
  libheif ??= (async () => {
    const factory = libheifFactory as unknown as (options: { locateFile: (file: string) => string }) => Libheif;
    const module = factory({ locateFile: () => wasmUrl });
    await module.ready;
    return module;
  })();
  return libheif;
}

export async function decodeHeic(bytes: Uint8Array, maxPixels: number): Promise<ImageData> {
  const heif = await loadHeif();
  const decoder = new heif.HeifDecoder();
  const images = decoder.decode(bytes);
  try {
    const primary = images[0];
    if (!primary) throw new DeviceFailure({ code: "heicEmpty" });
    const width = primary.get_width();
    const height = primary.get_height();
    if (width * height > maxPixels) throw new TooLargeError(width, height, maxPixels);
    const target = { data: new Uint8ClampedArray(width * height * 4), width, height };
    const data = await new Promise<Uint8ClampedArray<ArrayBuffer>>((resolve, reject) =>
      primary.display(target, (result) => (result ? resolve(result.data as Uint8ClampedArray<ArrayBuffer>) : reject(new DeviceFailure({ code: "heicUndecodable" })))),
    );
    return new ImageData(data, width, height);
  } finally {
    for (const image of images) image.free();
    decoder.decoder.delete();
  }
}

export function megapixels(pixels: number): string {
  return (pixels / 1e6).toFixed(pixels < 10e6 ? 1 : 0);
}
