// Delete tokens live only in this browser: whoever holds one may delete the image.
const KEY = "pixhaven.uploads";

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

export function readOwned(): OwnedUpload[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(parsed) ? parsed.filter(isOwnedUpload) : [];
  } catch {
    return [];
  }
}

function write(entries: OwnedUpload[]): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(entries));
  } catch {
    // Private modes and full quotas throw; the upload itself still succeeded.
  }
}

export function rememberUpload(entry: OwnedUpload): void {
  write([...readOwned().filter((e) => e.id !== entry.id), entry]);
}

export function forgetUpload(id: string): void {
  write(readOwned().filter((e) => e.id !== id));
}

export function deleteTokenFor(id: string): string | undefined {
  return readOwned().find((e) => e.id === id)?.deleteToken;
}
