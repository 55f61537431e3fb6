/** The NSFW classifier's vocabulary, shared by the server and the viewer (no zod here: the viewer page loads it). */

/** The classes of NSFWJS's models, in the order they answer. */
export const NSFW_CLASSES = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"] as const;
export type NsfwClass = (typeof NSFW_CLASSES)[number];
/** One probability per class; they sum to 1. */
export type NsfwScores = Record<NsfwClass, number>;

/** What the classifier says about one image: the likeliest class and its probability, and all five. */
export interface NsfwResult {
  label: NsfwClass;
  score: number;
  scores: NsfwScores;
}

/** The classes a viewer hides behind a blur. Drawing and Neutral are safe. */
export const NSFW_UNSAFE_CLASSES: readonly NsfwClass[] = ["Porn", "Hentai", "Sexy"];

/**
 * The probability that an image is not safe: Porn + Hentai + Sexy. Compared with NSFW_THRESHOLD
 * rather than the label's own score, so an image split between Porn and Sexy (neither the top
 * class alone) is still caught.
 */
export function unsafeProbability(scores: NsfwScores): number {
  return NSFW_UNSAFE_CLASSES.reduce((sum, name) => sum + (scores[name] ?? 0), 0);
}

/** The label is the class with the highest probability. */
export function nsfwResult(scores: NsfwScores): NsfwResult {
  let label: NsfwClass = NSFW_CLASSES[0];
  for (const name of NSFW_CLASSES) if (scores[name] > scores[label]) label = name;
  return { label, score: scores[label], scores };
}
