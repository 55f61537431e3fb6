import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { addIccToJpeg } from "../../src/tools/icc.js";

describe("addIccToJpeg", () => {
  it("attaches a profile that decoders read back exactly, across several segments when large", async () => {
    const jpeg = await sharp({ create: { width: 32, height: 16, channels: 3, background: "#c33" } }).jpeg().toBuffer();
    const p3 = (await sharp(await sharp(jpeg).withIccProfile("p3").toBuffer()).metadata()).icc!;
    expect((await sharp(addIccToJpeg(jpeg, p3)).metadata()).icc?.equals(p3)).toBe(true);
    // A 150 KB profile-shaped blob needs three APP2 segments; the reassembled bytes must match.
    const big = Buffer.concat([p3, Buffer.alloc(150_000 - p3.length, 7)]);
    big.writeUInt32BE(big.length, 0);
    const tagged = addIccToJpeg(jpeg, big);
    expect(tagged.toString("latin1").split("ICC_PROFILE\0").length - 1).toBe(3);
    expect((await sharp(tagged).metadata()).icc?.equals(big)).toBe(true);
  });
});
