import fs from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { OUTPUT_EXTENSION, OUTPUT_MIME } from "../common/tools/encoding.js";
import { nameStem, outputName } from "../common/tools/names.js";
import type { ToolOutputInfo } from "../common/tools/tool.js";
import type { ProducedFile } from "./server-tool.js";

/** A file a run produced, where the caller asked for it. */
export interface ToolOutput extends ToolOutputInfo {
  path: string;
}

/**
 * Measures each produced file from its own header, refuses to hand out one that carries metadata
 * (defence in depth for P7, whatever path wrote it), and moves it into `outputDir` under its safe
 * name, never replacing a file already there (`photo-2.webp` then).
 */
export async function deliverOutputs(files: ProducedFile[], inputName: string, outputDir: string): Promise<ToolOutput[]> {
  const measured: Array<Omit<ToolOutput, "path"> & { from: string }> = [];
  for (const file of files) {
    if (file.format === "text") {
      const { size } = await fs.stat(file.path);
      // Text has no pixels: its size is reported as 0×0.
      measured.push({ from: file.path, name: outputName(inputName, "txt", file.suffix), mime: "text/plain; charset=utf-8", bytes: size, width: 0, height: 0 });
      continue;
    }
    const meta = await sharp(file.path, { limitInputPixels: false, animated: true }).metadata();
    if (meta.exif || meta.xmp || meta.iptc || meta.comments?.length) throw new Error(`metadata survived in a ${file.format} output; refusing to deliver it`);
    const { size } = await fs.stat(file.path);
    const frames = meta.pages ?? 1;
    measured.push({
      from: file.path,
      name: outputName(inputName, OUTPUT_EXTENSION[file.format], file.suffix),
      mime: OUTPUT_MIME[file.format],
      bytes: size,
      width: meta.width ?? 0,
      height: meta.pageHeight ?? meta.height ?? 0,
      ...(frames > 1 ? { frames } : {}),
    });
  }
  if (measured.length) await fs.mkdir(outputDir, { recursive: true });
  const outputs: ToolOutput[] = [];
  for (const { from, ...info } of measured) {
    const placed = await placeWithoutReplacing(from, outputDir, info.name);
    outputs.push({ ...info, name: path.basename(placed), path: placed });
  }
  return outputs;
}

async function placeWithoutReplacing(from: string, dir: string, name: string): Promise<string> {
  const ext = path.extname(name);
  const stem = nameStem(name);
  for (let n = 1; n < 10_000; n++) {
    const target = path.join(dir, n === 1 ? name : `${stem}-${n}${ext}`);
    try {
      // A hard link fails when the name exists, so two runs never overwrite each other's outputs.
      await fs.link(from, target);
      return target;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") continue;
      if (code !== "EXDEV" && code !== "EPERM" && code !== "ENOTSUP") throw err;
      try {
        await fs.copyFile(from, target, fs.constants.COPYFILE_EXCL);
        return target;
      } catch (copyErr) {
        if ((copyErr as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw copyErr;
      }
    }
  }
  throw new Error(`no free output name for ${name} in ${dir}`);
}
