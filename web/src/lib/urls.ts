/**
 * The API hands out absolute links built from the server's public URL. Pages
 * load images and navigate through this origin's path instead, so a visit under
 * another hostname (LAN address, localhost) still satisfies the CSP and keeps
 * this browser's delete tokens in reach.
 */
export function samePath(url: string): string {
  try {
    const parsed = new URL(url, location.href);
    return parsed.pathname + parsed.search;
  } catch {
    return url;
  }
}
