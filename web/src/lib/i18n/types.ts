import type { en } from "./en.js";
import type { ToolLimits } from "../../../../src/common/tools/tool.js";

/** The shape every language provides: English defines it, the others must match it key for key. */
export type Catalogue = typeof en;

/** A text: plain, or a function of already formatted values. */
export type Message = string | ((...args: never[]) => string);

type Paths<T, Prefix extends string = ""> = {
  [K in keyof T & string]: T[K] extends Message ? `${Prefix}${K}` : Paths<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

type At<T, Path extends string> = Path extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? At<T[Head], Rest>
    : never
  : Path extends keyof T
    ? T[Path]
    : never;

/** "section.key" for every text of the catalogue. */
export type MessageKey = Paths<Catalogue>;

/** The values a text takes: none for a plain text, the function's parameters otherwise. */
export type MessageArgs<K extends MessageKey> = At<Catalogue, K> extends (...args: infer A) => string ? A : [];

/** A text that names a tool's limits on this server (`GET /api/v1/tools` gives them). */
export type LimitedText = string | ((limits: ToolLimits) => string);

/** A tool's title and description in a language other than its spec's (English). */
export interface ToolText {
  title: string;
  description: LimitedText;
}
