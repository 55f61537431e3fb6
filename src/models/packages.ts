import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

/**
 * The folder an installed package lies in. Many model packages do not export their package.json,
 * so the entry point is resolved and the folders above it searched for the package's own.
 */
export function packageDir(name: string): string | null {
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    return null;
  }
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")).name === name) return dir;
    } catch {
      // no package.json here (or a nested one without a name): keep walking up
    }
  }
  return null;
}

/** A probe's answer: null when every file is there, else what is missing (paths inside packages only). */
export async function missingFiles(pkg: string, files: readonly string[]): Promise<string | null> {
  const dir = packageDir(pkg);
  if (!dir) return `the package ${pkg} is not installed`;
  for (const file of files) {
    try {
      await fs.access(path.join(dir, file));
    } catch {
      return `${pkg} lacks ${file}`;
    }
  }
  return null;
}
