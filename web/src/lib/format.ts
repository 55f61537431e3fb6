import { i18n, messages, t } from "./i18n/index.svelte.js";

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return t("units.bytes", String(bytes));
  // The units and the number both in the page's language (1.5 MB, 1,5 Mo).
  const units = messages().units.sizes;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = value < 10 ? 1 : 0;
  return `${value.toLocaleString(i18n.language, { maximumFractionDigits: digits })} ${units[unit]}`;
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


const durationUnits = [
  { seconds: 86_400, key: "units.days" },
  { seconds: 3600, key: "units.hours" },
  { seconds: 60, key: "units.minutes" },
  { seconds: 1, key: "units.seconds" },
] as const;

/**
 * A configured duration in the largest unit that states it exactly: 2700 → "45 minutes",
 * 7200 → "2 hours". One hour reads "60 minutes", as retention periods are usually given.
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const unit = durationUnits.find((u) => s % u.seconds === 0 && s / u.seconds >= (u.seconds === 3600 ? 2 : 1)) ?? durationUnits[3];
  const n = s / unit.seconds;
  return t(unit.key, n);
}

/** How long until `iso`, rounded up, as "in 44 minutes"; "soon" when under a minute. */
export function formatTimeLeft(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (!Number.isFinite(ms)) return "";
  if (ms <= 60_000) return ms <= 0 ? t("units.now") : t("units.inUnderAMinute");
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 120) return t("units.inMinutes", minutes);
  const hours = Math.round(minutes / 60);
  if (hours < 48) return t("units.inHours", hours);
  return t("units.inDays", Math.round(hours / 24));
}
