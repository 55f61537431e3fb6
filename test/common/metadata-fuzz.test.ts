import { describe, expect, it } from "vitest";
import { MalformedImageError, stripMetadata, type StrippableFormat } from "../../src/common/metadata/index.js";
import { avifWithMetadata, gifWithMetadata, jpegWithMetadata, pngWithMetadata, webpWithMetadata } from "../fixtures/metadata.js";

const MUTATIONS = 3000;

describe("stripMetadata on mutated input", () => {
  const makers: Record<StrippableFormat, () => Promise<Uint8Array>> = {
    jpeg: () => jpegWithMetadata(),
    png: () => pngWithMetadata(),
    webp: () => webpWithMetadata(),
    gif: () => gifWithMetadata({ frames: 2 }),
    avif: () => avifWithMetadata(),
  };

  it.each(Object.keys(makers) as StrippableFormat[])("%s: fails only with MalformedImageError, whatever the damage", async (format) => {
    const original = await makers[format]();
    let state = 0x5eed + format.length;
    const rand = (n: number) => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state % n;
    };
    const unexpected: string[] = [];
    for (let i = 0; i < MUTATIONS; i++) {
      const bytes = Uint8Array.from(original);
      const zone = Math.min(bytes.length, 4096); // container structure lives at the start
      for (let k = 0; k < 1 + rand(6); k++) {
        const at = rand(zone);
        if (rand(2)) bytes[at]! ^= 1 << rand(8);
        else bytes.fill(rand(2) ? 0xff : 0x00, at, at + 1 + rand(8));
      }
      const input = rand(4) === 0 ? bytes.subarray(0, rand(bytes.length)) : bytes;
      try {
        stripMetadata(input, format);
      } catch (err) {
        if (!(err instanceof MalformedImageError)) unexpected.push(`${(err as Error).name}: ${(err as Error).message}`);
      }
    }
    expect(unexpected).toEqual([]);
  });
});
