/**
 * Writes bytes and entropy-coded bits into one buffer that doubles when full, stuffing a 0x00 after
 * every 0xFF data byte so that it cannot be read as a marker.
 */
export class BitWriter {
  private buf: Uint8Array;
  private pos = 0;
  private acc = 0;
  private count = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(capacity, 1024));
  }

  /** Makes room for `extra` more bytes; called once per MCU rather than per bit. */
  reserve(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + extra));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  bytes(data: Uint8Array | readonly number[]): void {
    this.reserve(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Appends the low `length` bits of `value` (length <= 16, value already masked). */
  bits(value: number, length: number): void {
    this.acc = (this.acc << length) | value;
    this.count += length;
    while (this.count >= 8) {
      this.count -= 8;
      const byte = (this.acc >>> this.count) & 0xff;
      this.buf[this.pos++] = byte;
      if (byte === 0xff) this.buf[this.pos++] = 0;
    }
  }

  /** Pads the last byte with one bits, as JPEG requires before a marker. */
  flushBits(): void {
    if (this.count > 0) this.bits((1 << (8 - this.count)) - 1, 8 - this.count);
    this.acc = 0;
    this.count = 0;
  }

  result(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
