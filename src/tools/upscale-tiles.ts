import type { ModelThreads } from "../models/pool.js";

/** A picture as RGB bytes, row-major, 3 bytes a pixel (what the image models take and give). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** One tile: the part of the result it owns (`core`) and the larger part of the input it sees. */
export interface Tile {
  core: { x: number; y: number; width: number; height: number };
  seen: { x: number; y: number; width: number; height: number };
}

/**
 * Cuts a picture into tiles of about `size` pixels a side, each seeing `margin` more pixels on every
 * side that has a neighbour. Only a tile's core is kept, so every output pixel comes from a model
 * run that saw at least `margin` pixels around it, as a run over the whole picture would: no seams.
 * Sizes are spread evenly, so no sliver of a tile is left at the right or bottom edge. With `align`,
 * what a tile sees grows (within the picture) to a multiple of it: a model that pads its input to
 * such sides gets more real context instead of padding.
 */
export function planTiles(width: number, height: number, size: number, margin: number, align = 1): Tile[] {
  const cuts = (length: number) => {
    const count = Math.max(1, Math.ceil(length / size));
    return Array.from({ length: count + 1 }, (_, i) => Math.round((i * length) / count));
  };
  const xs = cuts(width);
  const ys = cuts(height);
  const tiles: Tile[] = [];
  for (let j = 0; j + 1 < ys.length; j++)
    for (let i = 0; i + 1 < xs.length; i++) {
      const core = { x: xs[i]!, y: ys[j]!, width: xs[i + 1]! - xs[i]!, height: ys[j + 1]! - ys[j]! };
      const [x, seenWidth] = widen(Math.max(0, core.x - margin), Math.min(width, core.x + core.width + margin), width, align);
      const [y, seenHeight] = widen(Math.max(0, core.y - margin), Math.min(height, core.y + core.height + margin), height, align);
      tiles.push({ core, seen: { x, y, width: seenWidth, height: seenHeight } });
    }
  return tiles;
}

/** Grows [start, end) to a multiple of `align` within [0, length): right first, then left. */
function widen(start: number, end: number, length: number, align: number): [number, number] {
  const want = Math.min(length, Math.ceil((end - start) / align) * align);
  const grownEnd = Math.min(length, start + want);
  return [Math.max(0, grownEnd - want), want];
}

/** Copies a rectangle out of an RGB picture into a buffer of its own (so it can be transferred). */
export function cutRect(image: RgbImage, rect: { x: number; y: number; width: number; height: number }): Uint8Array {
  const out = new Uint8Array(rect.width * rect.height * 3);
  const row = rect.width * 3;
  for (let y = 0; y < rect.height; y++) {
    const from = ((rect.y + y) * image.width + rect.x) * 3;
    out.set(image.data.subarray(from, from + row), y * row);
  }
  return out;
}

export interface TiledRun {
  models: ModelThreads;
  /** a model in src/models/registry.ts that takes an RgbImage and gives one `scale` times larger */
  model: string;
  scale: number;
  /** tile side in input pixels; Infinity runs the model once on the whole picture */
  tile: number;
  margin: number;
  /** what each tile sees is grown to a multiple of this where the picture allows (default 1) */
  align?: number;
  /** the model threads to keep busy: each gets a second tile queued behind the one it runs */
  concurrency: number;
  /** for one tile */
  timeoutMs: number;
  /** after each tile; throwing (a cancelled run) stops handing out tiles */
  onTile?(done: number, total: number): void;
  /** a cancelled run gives up its queued tiles and the one running at once (ModelThreads.run) */
  signal?: AbortSignal;
}

/**
 * Runs an image model over a picture tile by tile, the tiles spread over the model threads (each
 * has the model loaded), and assembles the result. Memory stays bounded by the tile size, whatever
 * the picture's.
 */
export async function runTiled(image: RgbImage, run: TiledRun): Promise<RgbImage> {
  const { scale } = run;
  const out: RgbImage = { data: new Uint8Array(image.width * scale * image.height * scale * 3), width: image.width * scale, height: image.height * scale };
  const tiles = planTiles(image.width, image.height, run.tile, run.margin, run.align);
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < tiles.length) {
      run.signal?.throwIfAborted();
      const tile = tiles[next++]!;
      const data = cutRect(image, tile.seen);
      const result = await run.models.run<RgbImage>(
        run.model,
        { data, width: tile.seen.width, height: tile.seen.height },
        { timeoutMs: run.timeoutMs, transfer: [data.buffer as ArrayBuffer], ...(run.signal ? { signal: run.signal } : {}) },
      );
      if (result.width !== tile.seen.width * scale || result.height !== tile.seen.height * scale) {
        throw new Error(`the model gave ${result.width}×${result.height} for a ${tile.seen.width}×${tile.seen.height} tile`);
      }
      keepCore(out, result, tile, scale);
      run.onTile?.(++done, tiles.length);
    }
  };
  // Two tiles in flight per thread: while a thread runs one, the next waits in its queue, so the
  // thread never idles through a round trip to this (possibly busy) event loop between tiles.
  const workers = Array.from({ length: Math.max(1, Math.min(2 * run.concurrency, tiles.length)) }, () =>
    worker().catch((err: unknown) => {
      failed = true;
      throw err;
    }),
  );
  // Every worker is awaited before answering, so no tile is still writing when the caller moves on.
  const settled = await Promise.allSettled(workers);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure) throw failure.reason;
  return out;
}

/** Copies the part of a tile's result that the tile owns into the output. */
function keepCore(out: RgbImage, result: RgbImage, tile: Tile, scale: number): void {
  const dx = (tile.core.x - tile.seen.x) * scale;
  const dy = (tile.core.y - tile.seen.y) * scale;
  const row = tile.core.width * scale * 3;
  for (let y = 0; y < tile.core.height * scale; y++) {
    const from = ((dy + y) * result.width + dx) * 3;
    out.data.set(result.data.subarray(from, from + row), ((tile.core.y * scale + y) * out.width + tile.core.x * scale) * 3);
  }
}
