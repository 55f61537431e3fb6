/** Files from a drop, folders included (walked recursively through the entries API). */
export async function droppedFiles(data: DataTransfer): Promise<File[]> {
  // Entries must be taken while the drop event is being handled; reading them can wait.
  const entries = Array.from(data.items)
    .filter((item) => item.kind === "file")
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.length === 0 || entries.some((e) => e === null)) return Array.from(data.files);
  const files: File[] = [];
  for (const entry of entries) await walk(entry!, files);
  return files;
}

const MAX_FILES = 10_000;

async function walk(entry: FileSystemEntry, into: File[]): Promise<void> {
  if (into.length >= MAX_FILES) return;
  if (entry.isFile) {
    into.push(await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries answers in pages (100 at a time in Chromium) until it answers an empty one.
  for (;;) {
    const page = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (page.length === 0) return;
    for (const child of page) await walk(child, into);
  }
}
