import { UnencodableJpegError } from "./errors.js";
import type { HuffmanSpec } from "./huffman-decode.js";

/** The example tables of the JPEG standard (ITU T.81 K.3), which most cameras use unchanged. */
export const STANDARD_TABLES: { dc: [HuffmanSpec, HuffmanSpec]; ac: [HuffmanSpec, HuffmanSpec] } = {
  dc: [spec([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], range(0, 11)), spec([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], range(0, 11))],
  ac: [
    acSpec(
      [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
      [
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23,
        0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82,
      ],
    ),
    acSpec(
      [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
      [
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1,
        0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1,
      ],
    ),
  ],
};

function spec(counts: number[], symbols: number[]): HuffmanSpec {
  return { counts: Uint8Array.from(counts), symbols: Uint8Array.from(symbols) };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** In both standard AC tables the 16-bit codes go to all remaining symbols in increasing order. */
function acSpec(counts: number[], shortCodes: number[]): HuffmanSpec {
  const all = [0x00, 0xf0, ...range(0, 15).flatMap((run) => range(1, 10).map((size) => (run << 4) | size))];
  const rest = all.filter((s) => !shortCodes.includes(s)).sort((a, b) => a - b);
  return spec(counts, [...shortCodes, ...rest]);
}

/** Code and length of each symbol; length 0 marks a symbol the table cannot encode. */
export interface EncodeTable {
  code: Uint16Array;
  size: Uint8Array;
}

export function encodeTable(table: HuffmanSpec): EncodeTable {
  const out: EncodeTable = { code: new Uint16Array(256), size: new Uint8Array(256) };
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++, code <<= 1) {
    for (let i = 0; i < table.counts[length - 1]!; i++, k++, code++) {
      out.code[table.symbols[k]!] = code;
      out.size[table.symbols[k]!] = length;
    }
  }
  return out;
}

/**
 * The optimal table for these symbol counts, built as JPEG K.2 describes (with the tie-breaks that
 * make the result the same as other encoders'): a reserved pseudo-symbol keeps any code from being
 * all ones, and lengths over 16 are folded back.
 */
export function optimalTable(counts: Int32Array): HuffmanSpec {
  const freq = new Float64Array(257);
  freq.set(counts.subarray(0, 256));
  freq[256] = 1;
  const codeSize = new Int32Array(257);
  const others = new Int32Array(257).fill(-1);
  for (;;) {
    const c1 = smallest(freq, -1);
    const c2 = smallest(freq, c1);
    if (c2 < 0) break;
    freq[c1]! += freq[c2]!;
    freq[c2] = 0;
    for (let c = c1; ; c = others[c]!) {
      codeSize[c]!++;
      if (others[c]! < 0) {
        others[c] = c2;
        break;
      }
    }
    for (let c = c2; c >= 0; c = others[c]!) codeSize[c]!++;
  }
  const bits = new Int32Array(33);
  for (let i = 0; i <= 256; i++) {
    if (codeSize[i]! > 32) throw new UnencodableJpegError("Huffman code too long");
    if (codeSize[i]) bits[codeSize[i]!]!++;
  }
  for (let i = 32; i > 16; i--) {
    while (bits[i]! > 0) {
      let j = i - 2;
      while (bits[j] === 0) j--;
      bits[i]! -= 2;
      bits[i - 1]!++;
      bits[j + 1]! += 2;
      bits[j]!--;
    }
  }
  let longest = 16;
  while (bits[longest] === 0) longest--;
  bits[longest]!--; // the pseudo-symbol's code
  const symbols: number[] = [];
  for (let length = 1; length <= 32; length++) for (let s = 0; s < 256; s++) if (codeSize[s] === length) symbols.push(s);
  return { counts: Uint8Array.from(bits.subarray(1, 17)), symbols: Uint8Array.from(symbols) };
}

/** The symbol with the smallest non-zero count other than `except`; on ties the highest symbol. */
function smallest(freq: Float64Array, except: number): number {
  let best = -1;
  let value = Infinity;
  for (let i = 0; i <= 256; i++) {
    const f = freq[i]!;
    if (f !== 0 && f <= value && i !== except) {
      value = f;
      best = i;
    }
  }
  return best;
}
