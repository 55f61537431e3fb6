/**
 * This browser's preferences (theme, language, NSFW filter, each tool's last settings). They live
 * in localStorage only (P3): no module here talks to the network, and nothing reads them into a
 * request. Every key gets the same prefix so that they are easy to find and to clear.
 *
 *   const quality = preference("compress.quality", { fallback: 75, decode: numberIn(1, 100) });
 *   quality.get(); quality.set(80); quality.reset();
 */
export const PREFERENCE_PREFIX = "pixhaven.";

export interface PreferenceCodec<T> {
  /** Returned when nothing (or nothing valid) is stored; storing it removes the key. */
  fallback: T;
  /** The stored text back to a value, or undefined when it is not one. */
  decode(raw: string): T | undefined;
  /** Defaults to the string itself for strings, JSON otherwise. */
  encode?(value: T): string;
}

export interface Preference<T> {
  /** The full localStorage key, prefix included. */
  readonly key: string;
  get(): T;
  set(value: T): void;
  reset(): void;
  /** Called when another tab changes this preference; returns a function that stops listening. */
  onExternalChange(listener: (value: T) => void): () => void;
}

export function preference<T>(name: string, codec: PreferenceCodec<T>): Preference<T> {
  const key = PREFERENCE_PREFIX + name;
  const encode = codec.encode ?? ((value: T) => (typeof value === "string" ? value : JSON.stringify(value)));
  const decode = (raw: string | null): T => (raw === null ? codec.fallback : (codec.decode(raw) ?? codec.fallback));
  return {
    key,
    get() {
      try {
        return decode(localStorage.getItem(key));
      } catch {
        return codec.fallback; // storage blocked (privacy settings): behave as if nothing was chosen
      }
    },
    set(value) {
      try {
        const text = encode(value);
        if (text === encode(codec.fallback)) localStorage.removeItem(key);
        else localStorage.setItem(key, text);
      } catch {
        // Private modes and full quotas throw; the choice still applies to this page.
      }
    },
    reset() {
      try {
        localStorage.removeItem(key);
      } catch {
        // nothing stored, nothing to remove
      }
    },
    onExternalChange(listener) {
      const handler = (e: StorageEvent) => {
        if (e.key === key || e.key === null) listener(decode(e.newValue));
      };
      window.addEventListener("storage", handler);
      return () => window.removeEventListener("storage", handler);
    },
  };
}

/** A preference that is one of a few strings. */
export function oneOf<const T extends string>(name: string, choices: readonly T[], fallback: T): Preference<T> {
  return preference<T>(name, { fallback, decode: (raw) => (choices as readonly string[]).includes(raw) ? (raw as T) : undefined });
}

/**
 * A tool's last settings as a JSON object. `validate` keeps only what the current version of the
 * tool understands, so settings saved by an older version never break the form.
 */
export function jsonPreference<T>(name: string, fallback: T, validate: (value: unknown) => T | undefined): Preference<T> {
  return preference<T>(name, {
    fallback,
    decode(raw) {
      try {
        return validate(JSON.parse(raw));
      } catch {
        return undefined;
      }
    },
    encode: (value) => JSON.stringify(value),
  });
}

/** Each tool's last settings, under one key per tool. */
export function toolSettings<T>(tool: string, fallback: T, validate: (value: unknown) => T | undefined): Preference<T> {
  return jsonPreference(`tool.${tool}`, fallback, validate);
}
