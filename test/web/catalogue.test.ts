/**
 * The web app's message catalogue: French has every text English has, and what the browser tools'
 * web workers report (codes, metadata categories) has its words in both languages. Web workers
 * speak no language, so a sentence thrown inside one would reach the page in English only.
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { METADATA_CATEGORIES } from "../../src/common/tools/metadata-report.js";
import { toolCatalogue } from "../../src/common/tools/index.js";
import { en } from "../../web/src/lib/i18n/en.js";
import { fr } from "../../web/src/lib/i18n/fr.js";

const TOOLS_DIR = new URL("../../web/src/tools/", import.meta.url);

type Tree = { [key: string]: string | ((...args: never[]) => string) | Tree };

/** "section.key" → the text, for every text of a catalogue. */
function flatten(tree: Tree, prefix = ""): Map<string, Tree[string]> {
  const out = new Map<string, Tree[string]>();
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === "object") for (const [k, v] of flatten(value, `${prefix}${key}.`)) out.set(k, v);
    else out.set(`${prefix}${key}`, value);
  }
  return out;
}

async function toolSources(): Promise<{ file: string; text: string }[]> {
  const files = (await readdir(TOOLS_DIR, { recursive: true })).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(new URL(file, TOOLS_DIR), "utf8") })));
}

/** Values for the problem texts that take some. */
const SAMPLES: Record<string, unknown[]> = { "device.problems.tooLarge": ["48.0", 8000, 6000, "24"], "device.problems.detail": ["It failed.", "out of memory"] };

/** Sections where a language gives its own texts for what the specs say in English: English has none. */
const OVERRIDES = ["toolTexts", "paramHints"] as const;
const withoutOverrides = (catalogue: object) => Object.fromEntries(Object.entries(catalogue).filter(([key]) => !(OVERRIDES as readonly string[]).includes(key)));

describe("message catalogue", () => {
  const english = flatten(withoutOverrides(en) as Tree);
  const french = flatten(withoutOverrides(fr) as Tree);

  it("French names every tool, describes it and gives every hint its params have, for the tools and params that exist", () => {
    expect(en.toolTexts).toEqual({});
    expect(en.paramHints).toEqual({});
    const catalogue = toolCatalogue();
    expect(Object.keys(fr.toolTexts).sort()).toEqual(catalogue.map((tool) => tool.name).sort());
    const used = new Set<string>();
    for (const tool of catalogue) {
      const text = fr.toolTexts[tool.name]!;
      const description = typeof text.description === "function" ? text.description(tool.limits) : text.description;
      expect(text.title.length, tool.name).toBeGreaterThan(0);
      // Limits are filled in, none is left out as an empty phrase.
      expect(description, tool.name).not.toMatch(/\{|undefined|au plus \(|au plus +\./);
      for (const [param, schema] of Object.entries((tool.params as { properties?: Record<string, { description?: string }> }).properties ?? {})) {
        if (!schema.description) continue;
        const key = `${tool.name}.${param}` in fr.paramHints ? `${tool.name}.${param}` : param;
        expect(fr.paramHints[key], `${tool.name}.${param}`).toBeDefined();
        used.add(key);
      }
    }
    // No hint for a param that no tool has.
    expect(Object.keys(fr.paramHints).filter((key) => !used.has(key))).toEqual([]);
  });

  it("French has exactly the texts English has, taking the same values", () => {
    expect([...french.keys()].sort()).toEqual([...english.keys()].sort());
    for (const [key, value] of english) {
      const other = french.get(key);
      expect(typeof other, key).toBe(typeof value);
      if (typeof value === "function" && typeof other === "function") {
        expect(other.length, key).toBe(value.length);
      } else {
        expect(String(other).length, key).toBeGreaterThan(0);
      }
    }
  });

  it("every problem code the web workers and the pool report has its words in English and French", async () => {
    const codes = new Set<string>();
    for (const { text } of await toolSources()) for (const m of text.matchAll(/\bcode: "([a-zA-Z]+)"/g)) codes.add(m[1]!);
    // The page's own codes, worded by texts the page had before.
    const pageCodes: Record<string, string> = { notTaken: "device.notTaken", notAPicture: "device.notAPicture", heicStrip: "device.heicStrip" };
    expect(codes.size).toBeGreaterThan(5);
    for (const code of codes) {
      const key = pageCodes[code] ?? `device.problems.${code}`;
      expect(english.has(key), `${code}: no English text ${key}`).toBe(true);
      expect(french.has(key), `${code}: no French text ${key}`).toBe(true);
    }
    for (const [key, value] of english) {
      if (!key.startsWith("device.problems.") || key === "device.problems.detail") continue;
      const words = (v: Tree[string] | undefined) => (typeof v === "function" ? v(...((SAMPLES[key] ?? []) as never[])) : v);
      const [said, dit] = [words(value), words(french.get(key))];
      expect(dit, key).not.toMatch(/undefined|NaN|\[object/);
      expect(dit, `${key} is not translated`).not.toBe(said);
    }
  });

  it("no web worker or pool code throws a sentence: failures are codes the page words", async () => {
    for (const { file, text } of await toolSources()) expect(text.match(/new (?:[A-Za-z]*Error)\(\s*["'`]/g) ?? [], path.join("web/src/tools", file)).toEqual([]);
  });

  it("every metadata category the strip tool's web worker finds has its words in English and French", () => {
    const categories = (en.device as unknown as { categories: Record<string, string> }).categories;
    expect(Object.keys(categories).sort()).toEqual([...METADATA_CATEGORIES].sort());
    const translated = (fr.device as unknown as { categories: Record<string, string> }).categories;
    for (const c of METADATA_CATEGORIES) {
      expect(translated[c], c).toBeTruthy();
      if (c !== "XMP" && c !== "IPTC") expect(translated[c], `${c} is not translated`).not.toBe(c);
    }
  });
});
