/**
 * The message catalogue: t("section.key", ...values) returns the text in the current language.
 * The language is reactive state, so every template and $derived that calls t() follows a change
 * at once. The choice is kept in localStorage only (P3); <html lang> follows it.
 */
import { oneOf } from "../preferences.js";
import { en } from "./en.js";
import { fr } from "./fr.js";
import type { Catalogue, MessageArgs, MessageKey } from "./types.js";

export type { Catalogue, MessageKey } from "./types.js";

export const LANGUAGES = ["en", "fr"] as const;
export type Language = (typeof LANGUAGES)[number];

/** Each language's name in itself, as a switcher shows it. */
export const LANGUAGE_NAMES: Record<Language, string> = { en: "English", fr: "Français" };

const catalogues: Record<Language, Catalogue> = { en, fr };

// "auto": follow the browser's languages until the visitor picks one.
const stored = oneOf<Language | "auto">("language", [...LANGUAGES, "auto"], "auto");

function fromBrowser(): Language {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split("-")[0];
    const match = LANGUAGES.find((l) => l === base);
    if (match) return match;
  }
  return "en";
}

function resolve(choice: Language | "auto"): Language {
  return choice === "auto" ? fromBrowser() : choice;
}

let current = $state<Language>(resolve(stored.get()));
document.documentElement.lang = current;

stored.onExternalChange((choice) => {
  current = resolve(choice);
  document.documentElement.lang = current;
});

export const i18n = {
  get language(): Language {
    return current;
  },
  set(language: Language): void {
    current = language;
    stored.set(language);
    document.documentElement.lang = language;
  },
};

/** The current language's catalogue, for lookups by a key known only at run time. */
export function messages(): Catalogue {
  return catalogues[current];
}

export function t<K extends MessageKey>(key: K, ...args: MessageArgs<K>): string {
  let value: unknown = catalogues[current];
  for (const part of key.split(".")) value = (value as Record<string, unknown> | undefined)?.[part];
  if (typeof value === "function") return (value as (...a: unknown[]) => string)(...args);
  return typeof value === "string" ? value : key;
}
