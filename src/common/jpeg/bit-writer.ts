/**
 * Writes bytes and entropy-coded bits into one buffer that grows by half when full. Bits gather in a
 * 32-bit accumulator that is written out four bytes at a time, stuffing a 0x00 after every 0xFF
 * data byte so that it cannot be read as a marker.
 */
export class BitWriter {
  // Not private: the scan encoder (encode.ts) takes them into locals for its loop and hands them back.
  buf: Uint8Array;
  pos = 0;
  acc = 0;
  count = 0; // bits in acc, at most 31 between calls

  /** `memory`, when given and large enough, is written into instead of a new buffer. */
  constructor(capacity: number, memory?: Uint8Array) {
    this.buf = memory && memory.length >= capacity ? memory : new Uint8Array(Math.max(capacity, 1024));
  }

  /** Makes room for `extra` more bytes; called once per MCU rather than per bit. */
  reserve(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(Math.ceil(this.buf.length * 1.5), this.pos + extra));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  bytes(data: Uint8Array | readonly number[]): void {
    this.flushBits();
    this.reserve(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Appends the low `length` bits of `value` (1 <= length <= 31, value already masked). */
  bits(value: number, length: number): void {
    const room = 32 - this.count;
    if (length < room) {
      this.acc = (this.acc << length) | value;
      this.count += length;
      return;
    }
    const rest = length - room;
    this.word(room === 32 ? value >>> rest : (this.acc << room) | (value >>> rest));
    this.acc = value & ((1 << rest) - 1);
    this.count = rest;
  }

  private word(w: number): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let shift = 24; shift >= 0; shift -= 8) {
      const byte = (w >>> shift) & 0xff;
      buf[pos++] = byte;
      if (byte === 0xff) buf[pos++] = 0;
    }
    this.pos = pos;
  }

  /** Writes out the gathered bits, padding the last byte with one bits as JPEG requires before a marker. */
  flushBits(): void {
    const pad = (8 - (this.count & 7)) & 7;
    const acc = pad > 0 ? (this.acc << pad) | ((1 << pad) - 1) : this.acc;
    for (let left = this.count + pad; left > 0; left -= 8) {
      const byte = (acc >>> (left - 8)) & 0xff;
      this.buf[this.pos++] = byte;
      if (byte === 0xff) this.buf[this.pos++] = 0;
    }
    this.acc = 0;
    this.count = 0;
  }

  result(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
