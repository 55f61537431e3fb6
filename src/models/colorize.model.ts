import fs from "node:fs/promises";
import type { InferenceSession } from "onnxruntime-node";
import { type ColorizeManifest, type ColorizeTask, readColorizeManifest } from "./colorize.js";
import { labToSrgb, lightness, srgbToLab } from "./colorize-lab.js";
import { createSession, runSession } from "./onnx.model.js";
import type { ModelHandler } from "./registry.js";

interface Loaded {
  manifest: ColorizeManifest;
  session: InferenceSession;
}

/** Sessions by manifest path: made on the first task that names it, kept for the thread's life. */
type Sessions = Map<string, Promise<Loaded>>;

function load(sessions: Sessions, manifestPath: string): Promise<Loaded> {
  let entry = sessions.get(manifestPath);
  if (!entry) {
    entry = (async () => {
      const manifest = await readColorizeManifest(manifestPath);
      return { manifest, session: await createSession(await fs.readFile(manifest.modelPath)) };
    })();
    entry.catch(() => sessions.delete(manifestPath));
    sessions.set(manifestPath, entry);
  }
  return entry;
}

const offsetOf = (offset: number | number[], channel: number) => (typeof offset === "number" ? offset : (offset[channel] ?? offset[0]!));

/** The model's input tensor: L (lab) or the grey photo as RGB (rgb), normalised, in its layout. */
function inputTensor(m: ColorizeManifest, rgb: Uint8Array, width: number, height: number): { data: Float32Array; dims: number[] } {
  const channels = m.colorSpace === "lab" ? 1 : 3;
  const plane = width * height;
  const data = new Float32Array(plane * channels);
  const { scale, offset } = m.input;
  for (let p = 0; p < plane; p++) {
    const L = lightness(rgb[3 * p]!, rgb[3 * p + 1]!, rgb[3 * p + 2]!);
    for (let c = 0; c < channels; c++) {
      // An RGB model sees the photo as grey: the sRGB value of L with no colour.
      const value = channels === 1 ? L : greyOf(L);
      data[m.layout === "NCHW" ? c * plane + p : p * channels + c] = value * scale + offsetOf(offset, c);
    }
  }
  const dims = m.layout === "NCHW" ? [1, channels, height, width] : [1, height, width, channels];
  return { data, dims };
}

const grey = new Uint8Array(3);
function greyOf(L: number): number {
  labToSrgb(L, 0, 0, grey, 0);
  return grey[0]!;
}

/** The model's answer as a and b planes at the size it answered. */
function abPlanes(m: ColorizeManifest, data: Float32Array, dims: readonly number[]): { a: Float32Array; b: Float32Array; width: number; height: number } {
  const want = m.colorSpace === "lab" ? 2 : 3;
  if (dims.length !== 4) throw new Error(`the colourisation model answered a ${dims.length}-dimensional tensor, not 4`);
  const [, c, h, w] = m.layout === "NCHW" ? dims : [dims[0], dims[3], dims[1], dims[2]];
  if (c !== want) throw new Error(`the colourisation model answered ${c} channels, not ${want} (colorSpace ${m.colorSpace})`);
  const width = w!, height = h!, plane = width * height;
  const at = (ch: number, p: number) => data[m.layout === "NCHW" ? ch * plane + p : p * want + ch]! * m.output.scale + offsetOf(m.output.offset, ch);
  const a = new Float32Array(plane);
  const b = new Float32Array(plane);
  for (let p = 0; p < plane; p++) {
    if (want === 2) {
      a[p] = at(0, p);
      b[p] = at(1, p);
    } else {
      const clamp = (v: number) => Math.round(Math.min(255, Math.max(0, v)));
      const [, pa, pb] = srgbToLab(clamp(at(0, p)), clamp(at(1, p)), clamp(at(2, p)));
      a[p] = pa;
      b[p] = pb;
    }
  }
  return { a, b, width, height };
}

/**
 * Lays the model's colours, grown bilinearly (colour carries little detail), over the lightness of
 * every pixel of the photo, in place.
 */
function paint(photo: Uint8Array, width: number, height: number, ab: ReturnType<typeof abPlanes>): void {
  const sx = ab.width / width;
  const sy = ab.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(ab.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(ab.height - 1, y0 + 1), wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(ab.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(ab.width - 1, x0 + 1), wx = fx - x0;
      const i00 = y0 * ab.width + x0, i01 = y0 * ab.width + x1, i10 = y1 * ab.width + x0, i11 = y1 * ab.width + x1;
      const mix = (p: Float32Array) => (p[i00]! * (1 - wx) + p[i01]! * wx) * (1 - wy) + (p[i10]! * (1 - wx) + p[i11]! * wx) * wy;
      const at = 3 * (y * width + x);
      labToSrgb(lightness(photo[at]!, photo[at + 1]!, photo[at + 2]!), mix(ab.a), mix(ab.b), photo, at);
    }
  }
}

export const colorizeHandler: ModelHandler<ColorizeTask, { photo: ArrayBuffer }, Sessions> = {
  async load() {
    return new Map();
  },
  async run(sessions, task) {
    const { manifest, session } = await load(sessions, task.manifest);
    const input = inputTensor(manifest, new Uint8Array(task.small), task.smallWidth, task.smallHeight);
    const outputName = manifest.output.name ?? session.outputNames[0]!;
    if (manifest.input.name && manifest.input.name !== session.inputNames[0]) throw new Error(`the model's first input is ${session.inputNames[0]}, not ${manifest.input.name}`);
    const { data, dims } = await runSession(session, input.data, input.dims, outputName);
    const photo = new Uint8Array(task.photo);
    paint(photo, task.width, task.height, abPlanes(manifest, data, dims));
    return { value: { photo: task.photo }, transfer: [task.photo] };
  },
};
