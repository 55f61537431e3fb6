import { z } from "zod";

/** One side of a rectangle: a field left out is named with what the rectangle needs, not as "expected number". */
const side = (min: number, description: string) =>
  z
    .number({ error: (issue) => (issue.input === undefined ? "missing: a rectangle needs x, y, width and height" : undefined) })
    .int()
    .min(min)
    .describe(description);

/** A rectangle of the upright picture (crop keeps it, restore works on it); `description` says what for. */
export function rectSchema(description: string) {
  return z
    .strictObject({
      x: side(0, "Left edge, pixels from the left of the upright picture."),
      y: side(0, "Top edge, pixels from the top of the upright picture."),
      width: side(1, "Width in pixels."),
      height: side(1, "Height in pixels."),
    })
    .describe(description);
}
