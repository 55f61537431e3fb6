import sharp from "sharp";
import { ISNET_SIZE, segment } from "../src/models/isnet.js";
import type { ModelCase } from "./models.js";

/**
 * remove-background on a 12 MP photo: the job column is what a user waits for (upload, decode,
 * squash to 1024², ISNet, the mask grown back to 4000×3000, a transparent PNG), the direct column
 * ISNet alone at 1024².
 */
export const removeBackgroundCase: ModelCase = {
  name: "remove-background",
  tool: "remove-background",
  params: {},
  async makeInput() {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="3000"><defs><linearGradient id="g"><stop offset="0" stop-color="#dfe6ee"/><stop offset="1" stop-color="#c9d3dd"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/><ellipse cx="2000" cy="1150" rx="420" ry="520" fill="#7a4a32"/><rect x="1350" y="1600" width="1300" height="1400" rx="300" fill="#23415f"/></svg>`;
    const bytes = await sharp(Buffer.from(svg)).blur(1).jpeg({ quality: 88 }).toBuffer();
    return { bytes, name: "portrait.jpg" };
  },
  direct: {
    prepare: async ({ bytes }) => new Uint8Array(await sharp(bytes).resize(ISNET_SIZE, ISNET_SIZE, { fit: "fill", kernel: "lanczos3" }).removeAlpha().raw().toBuffer()),
    call: (models, pixels) => segment(models, "medium", pixels.slice(), 5 * 60_000),
  },
};
