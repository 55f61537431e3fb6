const MAX_STEM = 80;

/**
 * The name of a tool's output, from the input's untrusted name: its last path component without
 * extension, reduced to letters, digits, dots, dashes and underscores (no spaces, controls,
 * bidirectional overrides or leading dots), bounded, then the suffix and the new extension:
 * `My Photo.HEIC` → `My-Photo.webp`, with suffix `1080x1350` → `My-Photo-1080x1350.jpg`.
 */
export function outputName(inputName: string, extension: string, suffix?: string): string {
  return `${nameStem(inputName)}${suffix ? `-${safePart(suffix)}` : ""}.${safePart(extension) || "bin"}`;
}

export function nameStem(inputName: string): string {
  const base = inputName.normalize("NFC").split(/[/\\]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  const stem = safePart(dot > 0 ? base.slice(0, dot) : base);
  return Array.from(stem).slice(0, MAX_STEM).join("").replace(/[-.]+$/, "") || "image";
}

function safePart(text: string): string {
  return text
    .replace(/[^\p{L}\p{N}._-]+/gu, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
}
