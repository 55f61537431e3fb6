import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Plugin } from "vite";

/** Where the built app serves the model and runtime files; web/src/lib/background-removal.ts reads them there. */
export const MODELS_DIR = "models/background-removal";

// The library picks one of these four ONNX Runtime builds (SIMD and threads or not); the WebGPU
// (jsep) and training builds are never asked for, so they are left out (about 48 MB).
const UNUSED = /\.jsep\.wasm$|ort-training/;

interface Resource {
  chunks: { hash: string }[];
}

/**
 * Copies @imgly/background-removal-data's files (content-addressed chunks plus resources.json)
 * into the build, so that the model comes from Pixhaven's own origin (P2). The onnxruntime-web
 * .wasm files Vite would otherwise emit are never used (the library loads the runtime from these
 * chunks), so they are dropped from the bundle.
 */
export function backgroundRemovalModels(): Plugin {
  let outDir = "";
  return {
    name: "pixhaven-background-removal-models",
    apply: "build",
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    generateBundle(_options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (/(^|\/)ort-[\w.-]*\.wasm$/.test(name)) delete bundle[name];
      }
    },
    closeBundle() {
      const require = createRequire(import.meta.url);
      const source = path.join(path.dirname(require.resolve("@imgly/background-removal-data/package.json")), "dist");
      const target = path.join(outDir, MODELS_DIR);
      mkdirSync(target, { recursive: true });
      const resources = JSON.parse(readFileSync(path.join(source, "resources.json"), "utf8")) as Record<string, Resource>;
      const kept: Record<string, Resource> = {};
      for (const [key, resource] of Object.entries(resources)) {
        if (UNUSED.test(key)) continue;
        kept[key] = resource;
        for (const { hash } of resource.chunks) {
          const to = path.join(target, hash);
          if (!existsSync(to)) copyFileSync(path.join(source, hash), to);
        }
      }
      writeFileSync(path.join(target, "resources.json"), JSON.stringify(kept));
    },
  };
}
