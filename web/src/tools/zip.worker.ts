/**
 * Builds the "download all" ZIP off the page's thread. Pictures are already compressed, so entries
 * are stored, not deflated: the archive costs one copy and a CRC per file.
 */
import { zipSync, type Zippable } from "fflate";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<{ files: { name: string; bytes: ArrayBuffer }[] }>) => void) | null;
  postMessage(message: { zip: ArrayBuffer } | { error: string }, transfer?: Transferable[]): void;
};

scope.onmessage = (e) => {
  try {
    const entries: Zippable = {};
    for (const file of e.data.files) entries[file.name] = [new Uint8Array(file.bytes), { level: 0 }];
    const zip = zipSync(entries, { level: 0 });
    const buffer = zip.buffer as ArrayBuffer;
    scope.postMessage({ zip: buffer }, [buffer]);
  } catch (err) {
    scope.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
