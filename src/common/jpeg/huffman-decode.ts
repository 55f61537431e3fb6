import { MalformedJpegError } from "./errors.js";

/** A Huffman table as JPEG stores it: how many codes of each length 1..16, then the symbols in code order. */
export interface HuffmanSpec {
  counts: Uint8Array; // 16 entries, counts[i] codes of length i + 1
  symbols: Uint8Array;
}

const LOOKAHEAD = 9;

/**
 * Most symbols have short codes, so one table lookup on the next 9 bits answers nearly every decode;
 * longer codes fall back to the canonical-code bounds per length.
 */
export class HuffmanDecodeTable {
  /** (length << 8) | symbol for every 9-bit prefix whose code is at most 9 bits long, else 0. */
  readonly lookup = new Uint16Array(1 << LOOKAHEAD);
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
  }
}

/**
 * Reads bits from entropy-coded data, removing the 0x00 stuffed after each 0xFF. At a marker or the
 * end of the data it supplies zero bits, as decoders do, and counts them so that a scan which needed
 * them is reported as truncated instead of being decoded from invented bits.
 */
export class BitReader {
  private buf = 0;
  private bits = 0;
  private padded = 0;

  constructor(
    private readonly data: Uint8Array,
    private pos: number,
    private readonly end: number,
  ) {}

  private fill(): void {
    const data = this.data;
    while (this.bits <= 24) {
      let byte = 0;
      if (this.pos < this.end) {
        byte = data[this.pos]!;
        if (byte !== 0xff) this.pos++;
        else if (data[this.pos + 1] === 0) this.pos += 2;
        else {
          byte = 0; // a marker: stay before it
          this.padded++;
        }
      } else {
        this.padded++;
      }
      this.buf = (this.buf << 8) | byte;
      this.bits += 8;
    }
    // A scan this far past its data is corrupt; stop before wasting time on it.
    if (this.padded > 64) throw new MalformedJpegError("entropy-coded data ends early");
  }

  decode(table: HuffmanDecodeTable): number {
    if (this.bits < 16) this.fill();
    const entry = table.lookup[(this.buf >>> (this.bits - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)]!;
    if (entry !== 0) {
      this.bits -= entry >> 8;
      return entry & 0xff;
    }
    return this.decodeLong(table);
  }

  private decodeLong(table: HuffmanDecodeTable): number {
    for (let length = LOOKAHEAD + 1; length <= 16; length++) {
      const code = (this.buf >>> (this.bits - length)) & ((1 << length) - 1);
      if (code <= table.maxCode[length]!) {
        this.bits -= length;
        return table.symbols[code + table.offset[length]!]!;
      }
    }
    throw new MalformedJpegError("invalid Huffman code");
  }

  /** Reads an s-bit magnitude and extends its sign (JPEG's RECEIVE and EXTEND), for 1 <= s <= 16. */
  receive(s: number): number {
    if (this.bits < s) this.fill();
    this.bits -= s;
    const value = (this.buf >>> this.bits) & ((1 << s) - 1);
    return value < 1 << (s - 1) ? value - (1 << s) + 1 : value;
  }

  /** Fails when the bits consumed so far reached past the data into the supplied zeros. */
  checkComplete(): void {
    if (this.padded * 8 > this.bits) throw new MalformedJpegError("entropy-coded data ends early");
  }

  /** Moves past the restart marker RSTn that must follow the current interval, dropping its padding bits. */
  restart(n: number): void {
    this.checkComplete();
    const data = this.data;
    if (data[this.pos] !== 0xff) throw new MalformedJpegError("restart marker missing");
    while (this.pos < this.end && data[this.pos] === 0xff) this.pos++;
    if (this.pos >= this.end || data[this.pos] !== 0xd0 + n) throw new MalformedJpegError("restart marker missing or out of order");
    this.pos++;
    this.buf = 0;
    this.bits = 0;
    this.padded = 0;
  }
}
