/**
 * A process-wide allowance of bytes for image decoding. Each decode reserves what its header says
 * it will cost before it starts and returns it when done; decodes that do not fit wait their turn in
 * arrival order, so a queue of large images cannot starve, and no mix of inputs can take the
 * process past the allowance. A decode larger than the whole allowance can never run: the caller
 * refuses it up front (`fits`).
 */
export class MemoryBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; grant(): void }> = [];

  constructor(readonly capacity: number) {}

  fits(bytes: number): boolean {
    return bytes <= this.capacity;
  }

  get inUse(): number {
    return this.used;
  }

  async run<T>(bytes: number, task: () => Promise<T>): Promise<T> {
    const reserved = Math.max(0, Math.min(Math.ceil(bytes), this.capacity));
    await this.acquire(reserved);
    try {
      return await task();
    } finally {
      this.release(reserved);
    }
  }

  private acquire(bytes: number): Promise<void> {
    if (this.waiting.length === 0 && this.used + bytes <= this.capacity) {
      this.used += bytes;
      return Promise.resolve();
    }
    return new Promise((grant) => this.waiting.push({ bytes, grant }));
  }

  private release(bytes: number): void {
    this.used -= bytes;
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.capacity) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.grant();
    }
  }
}
