const MAX_NAME_LENGTH = 120;

/**
 * A client's file name is untrusted text: keep only its last path component, drop control, format
 * and bidirectional-override characters, and bound its length. It is never used as a path.
 */
export function sanitiseFilename(name: string | undefined): string {
  const base = (name ?? "").normalize("NFC").split(/[/\\]/).pop() ?? "";
  const clean = base
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, "")
    .replace(/\s+/g, " ")
    .replace(/^[\s.]+|[\s.]+$/g, "");
  const chars = Array.from(clean);
  if (chars.length === 0) return "image";
  if (chars.length <= MAX_NAME_LENGTH) return clean;
  const dot = clean.lastIndexOf(".");
  const ext = dot > 0 && clean.length - dot <= 10 ? clean.slice(dot) : "";
  return chars.slice(0, MAX_NAME_LENGTH - ext.length).join("") + ext;
}
