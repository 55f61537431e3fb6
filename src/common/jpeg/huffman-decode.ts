import { MalformedJpegError } from "./errors.js";

/** A Huffman table as JPEG stores it: how many codes of each length 1..16, then the symbols in code order. */
export interface HuffmanSpec {
  counts: Uint8Array; // 16 entries, counts[i] codes of length i + 1
  symbols: Uint8Array;
}

/** Bits of the one-lookup decode tables. */
export const LOOKAHEAD = 11;

/**
 * Most symbols have short codes, so one table lookup on the next 11 bits answers nearly every decode;
 * longer codes fall back to the canonical-code bounds per length.
 */
export class HuffmanDecodeTable {
  /** (length << 8) | symbol for every 11-bit prefix that starts with a whole code, else 0. */
  readonly lookup = new Uint16Array(1 << LOOKAHEAD);
  /**
   * For AC tables: when a short code and its coefficient's extra bits both fit in the 11 bits,
   * (value << 8) | (run << 4) | bits used, decoded in one step; else 0.
   */
  readonly fastAc = new Int32Array(1 << LOOKAHEAD);
  /** Largest code of each length (index = length), -1 when there is none. */
  readonly maxCode = new Int32Array(18).fill(-1);
  /** Added to a code of that length, gives the index of its symbol. */
  readonly offset = new Int32Array(18);
  readonly symbols: Uint8Array;

  constructor(spec: HuffmanSpec) {
    this.symbols = spec.symbols;
    let code = 0;
    let k = 0;
    for (let length = 1; length <= 16; length++) {
      const count = spec.counts[length - 1]!;
      this.offset[length] = k - code;
      for (let i = 0; i < count; i++, k++, code++) {
        if (length <= LOOKAHEAD) {
          const shift = LOOKAHEAD - length;
          this.lookup.fill((length << 8) | spec.symbols[k]!, code << shift, (code + 1) << shift);
        }
      }
      if (count > 0) this.maxCode[length] = code - 1;
      // Codes of one length must all fit in that many bits, or the table describes no prefix code.
      if (code > 1 << length) throw new MalformedJpegError("Huffman table has more codes than fit their lengths");
      code <<= 1;
    }
    for (let peek = 0; peek < 1 << LOOKAHEAD; peek++) {
      const entry = this.lookup[peek]!;
      const length = entry >> 8;
      const size = entry & 15;
      if (entry === 0 || size === 0 || length + size > LOOKAHEAD) continue;
      const raw = (peek >> (LOOKAHEAD - length - size)) & ((1 << size) - 1);
      const value = raw < 1 << (size - 1) ? raw - (1 << size) + 1 : raw;
      this.fastAc[peek] = (value << 8) | (entry & 0xf0) | (length + size);
    }
  }
}

/**
 * Decodes a code longer than the lookup's reach from `word` (the next 32 bits, first bit highest)
 * with the canonical-code bounds per length; returns (length << 8) | symbol, as the lookup does.
 */
export function decodeLong(table: HuffmanDecodeTable, word: number): number {
  for (let length = LOOKAHEAD + 1; length <= 16; length++) {
    const code = word >>> (32 - length);
    if (code <= table.maxCode[length]!) return (length << 8) | table.symbols[code + table.offset[length]!]!;
  }
  throw new MalformedJpegError("invalid Huffman code");
}
