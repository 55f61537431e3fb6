import { createHmac, randomBytes } from "node:crypto";
import type { Clock } from "../common/clock.js";
import { anonymiseIp } from "../privacy/anonymise-ip.js";

const DAY_MS = 86_400_000;
const MAX_REMEMBERED = 2_000_000; // ~100 MB worst case; past it views still count, just not deduplicated

/**
 * Counts a view once per visitor, image and day without storing an address or setting a cookie.
 * A visitor is a keyed hash of their anonymised network and user agent; the key is random, lives
 * only in memory and is replaced every UTC day together with the set, so yesterday's hashes can
 * never be linked to anyone.
 */
export class ViewCounter {
  private day = -1;
  private key = randomBytes(32);
  private seen = new Set<string>();

  constructor(private readonly clock: Clock) {}

  /** true when this visitor has not yet been counted for this image today */
  shouldCount(imageId: string, ip: string, userAgent: string | undefined): boolean {
    const today = Math.floor(this.clock.now() / DAY_MS);
    if (today !== this.day) {
      this.day = today;
      this.key = randomBytes(32);
      this.seen = new Set();
    }
    const visitor = createHmac("sha256", this.key)
      .update(`${imageId}\n${anonymiseIp(ip)}\n${userAgent ?? ""}`)
      .digest("base64url")
      .slice(0, 22);
    if (this.seen.has(visitor)) return false;
    if (this.seen.size < MAX_REMEMBERED) this.seen.add(visitor);
    return true;
  }
}
