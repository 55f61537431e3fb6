import { thumbHashToDataURL } from "thumbhash";

/** A blurred preview drawn from the image's ThumbHash while the real bytes load. */
export function placeholderUrl(thumbhash: string | null | undefined): string | undefined {
  if (!thumbhash) return undefined;
  try {
    return thumbHashToDataURL(Uint8Array.from(atob(thumbhash), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}
