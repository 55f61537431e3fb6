// Delete tokens live only in this browser: whoever holds one may delete the image.
export const OWNED_KEY = "pixhaven.uploads";

export interface OwnedUpload {
  id: string;
  deleteToken: string;
  url: string;
  createdAt: string;
}

function isOwnedUpload(value: unknown): value is OwnedUpload {
  const v = value as Partial<OwnedUpload> | null;
  return typeof v?.id === "string" && typeof v.deleteToken === "string";
}

/** Oldest first, as recorded; null when this browser refuses access to storage. */
export function readOwned(): OwnedUpload[] | null {
  try {
    return parseOwned(localStorage.getItem(OWNED_KEY));
  } catch {
    return null;
  }
}

export function parseOwned(json: string | null): OwnedUpload[] {
  try {
    const parsed: unknown = JSON.parse(json ?? "[]");
    return Array.isArray(parsed) ? parsed.filter(isOwnedUpload) : [];
  } catch {
    return [];
  }
}

export function writeOwned(entries: OwnedUpload[]): void {
  try {
    if (entries.length === 0) localStorage.removeItem(OWNED_KEY);
    else localStorage.setItem(OWNED_KEY, JSON.stringify(entries));
  } catch {
    // Private modes and full quotas throw; the upload itself still succeeded.
  }
}
