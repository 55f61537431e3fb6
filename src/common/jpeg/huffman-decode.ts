import { MalformedJpegError } from "./errors.js";
import { type EntropyData, SLACK } from "./entropy-data.js";

/** A Huffman table as JPEG stores it: how many codes of each length 1..16, then the symbols in code order. */
export interface HuffmanSpec {
  counts: Uint8Array; // 16 entries, counts[i] codes of length i + 1
  symbols: Uint8Array;
}

const LOOKAHEAD = 11;

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
 * Reads bits from unstuffed entropy-coded data (see unstuff). Every read takes the 32 bits around
 * the bit position straight from memory: no refill branch, whose outcome depends on the data and
 * would be mispredicted about every other coefficient.
 */
export class BitReader {
  private pos = 0; // in bits
  private interval = 0;
  private readonly view: DataView;
  private readonly dataBits: number;

  constructor(private readonly entropy: EntropyData) {
    this.view = new DataView(entropy.data.buffer, entropy.data.byteOffset, entropy.data.byteLength);
    this.dataBits = (entropy.data.length - SLACK) * 8;
  }

  /** The next 32 bits, first bit highest; bits past the data read as zero (the slack). */
  private window(): number {
    return this.view.getInt32(this.pos >>> 3) << (this.pos & 7);
  }

  /** Called before each block: a block reads far less than the slack, so reads stay in bounds. */
  checkBounds(): void {
    if (this.pos > this.dataBits + 64) throw new MalformedJpegError("entropy-coded data ends early");
  }

  /** The next LOOKAHEAD bits. */
  peek(): number {
    return this.window() >>> (32 - LOOKAHEAD);
  }

  skip(n: number): void {
    this.pos += n;
  }

  decode(table: HuffmanDecodeTable): number {
    const entry = table.lookup[this.peek()]!;
    if (entry !== 0) {
      this.pos += entry >> 8;
      return entry & 0xff;
    }
    return this.decodeLong(table);
  }

  private decodeLong(table: HuffmanDecodeTable): number {
    const bits = this.window();
    for (let length = LOOKAHEAD + 1; length <= 16; length++) {
      const code = bits >>> (32 - length);
      if (code <= table.maxCode[length]!) {
        this.pos += length;
        return table.symbols[code + table.offset[length]!]!;
      }
    }
    throw new MalformedJpegError("invalid Huffman code");
  }

  /** Reads an s-bit magnitude and extends its sign (JPEG's RECEIVE and EXTEND), for 1 <= s <= 16. */
  receive(s: number): number {
    const value = this.window() >>> (32 - s);
    this.pos += s;
    // A clear top bit means negative: subtract 2^s - 1, without a branch.
    return value - (((1 << s) - 1) & ((value >>> (s - 1)) - 1));
  }

  /** Fails when the bits consumed so far reach past the current interval's data. */
  checkComplete(): void {
    if (this.pos > this.entropy.ends[this.interval]! * 8) throw new MalformedJpegError("entropy-coded data ends early");
  }

  /** Moves to the interval after restart marker RSTn, dropping the padding bits of the current one. */
  restart(n: number): void {
    this.checkComplete();
    if (this.entropy.markers[this.interval] !== n) throw new MalformedJpegError("restart marker missing or out of order");
    this.pos = this.entropy.ends[this.interval++]! * 8;
  }
}
