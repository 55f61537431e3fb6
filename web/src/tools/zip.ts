import { DeviceFailure } from "./problems.js";

/** The ZIP of a batch's results, built in a web worker; names are made unique, as a ZIP requires. */
export async function zipResults(files: { name: string; blob: Blob }[]): Promise<Blob> {
  const named = uniqueNames(files.map((f) => f.name));
  const entries = await Promise.all(files.map(async (f, i) => ({ name: named[i]!, bytes: await f.blob.arrayBuffer() })));
  const worker = new Worker(new URL("./zip.worker.ts", import.meta.url), { type: "module", name: "pixhaven-zip" });
  try {
    const reply = await new Promise<{ zip: ArrayBuffer } | { error: string }>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(new DeviceFailure({ code: "zipFailed", detail: e.message ?? "" }));
      worker.postMessage(
        { files: entries },
        entries.map((e) => e.bytes),
      );
    });
    if ("error" in reply) throw new DeviceFailure({ code: "zipFailed", detail: reply.error });
    return new Blob([reply.zip], { type: "application/zip" });
  } finally {
    worker.terminate();
  }
}

/** `a.jpg`, `a.jpg` → `a.jpg`, `a-2.jpg`. */
export function uniqueNames(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    let candidate = name;
    const dot = name.lastIndexOf(".");
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : "";
    for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${ext}`;
    used.add(candidate.toLowerCase());
    return candidate;
  });
}
