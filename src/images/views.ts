import { createHmac, randomBytes } from "node:crypto";
import type { Clock } from "../common/clock.js";
import { anonymiseIp } from "../privacy/anonymise-ip.js";

const DAY_MS = 86_400_000;
// Past this many visitor-image pairs in a day views still count, just without de-duplication;
// 48-bit numbers in a Set cost about 40 MB at the cap.
const MAX_REMEMBERED = 1_000_000;

/**
 * Counts a view once per visitor, image and day without storing an address or setting a cookie.
 * A visitor is a keyed hash of their anonymised network and user agent; the key is random, lives
 * only in memory and is replaced every UTC day together with the set, so yesterday's hashes can
 * never be linked to anyone.
 */
export class ViewCounter {
  private day = -1;
  private key = randomBytes(32);
  private seen = new Set<number>();

  constructor(private readonly clock: Clock) {}

  /** true when this visitor has not yet been counted for this image today */
  shouldCount(imageId: string, ip: string, userAgent: string | undefined): boolean {
    const today = Math.floor(this.clock.now() / DAY_MS);
    if (today !== this.day) {
      this.day = today;
      this.key = randomBytes(32);
      this.seen = new Set();
    }
    // 48 bits: a collision among a million pairs is a one-in-several-hundred chance of one uncounted view.
    const visitor = createHmac("sha256", this.key)
      .update(`${imageId}\n${anonymiseIp(ip)}\n${userAgent ?? ""}`)
      .digest()
      .readUIntBE(0, 6);
    if (this.seen.has(visitor)) return false;
    if (this.seen.size < MAX_REMEMBERED) this.seen.add(visitor);
    return true;
  }
}
