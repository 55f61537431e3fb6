const units = ["bytes", "KB", "MB", "GB"] as const;

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${bytes} bytes`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = value < 10 ? 1 : 0;
  return `${value.toLocaleString(undefined, { maximumFractionDigits: digits })} ${units[unit]}`;
}

export function formatDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

const mimeNames: Record<string, string> = { webp: "WebP", "svg+xml": "SVG", "x-icon": "ICO" };

/** "image/jpeg" → "JPEG", "image/webp" → "WebP". */
export function formatMime(mime: string): string {
  const subtype = (mime.split("/")[1] ?? mime).toLowerCase();
  return mimeNames[subtype] ?? subtype.toUpperCase();
}

export function formatCount(n: number): string {
  return n.toLocaleString();
}

const families: Record<string, string> = { apng: "png", heif: "heic" };

/** The server lists every MIME alias it sniffs; people only need the family names. */
export function formatAcceptedTypes(mimes: string[]): string {
  const names = mimes.map((mime) => {
    const subtype = (mime.split("/")[1] ?? mime).toLowerCase().replace(/-sequence$/, "");
    return formatMime(`image/${families[subtype] ?? subtype}`);
  });
  return [...new Set(names)].join(", ");
}

