import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { backgroundRemovalModels } from "./build/background-removal-models.js";
import { serviceWorker } from "./build/service-worker.js";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The build runs from the repository root, so anchor everything to this folder.
const root = fileURLToPath(new URL(".", import.meta.url));
const apiTarget = process.env.PIXHAVEN_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  root,
  base: "/",
  plugins: [svelte(), backgroundRemovalModels(), serviceWorker(fileURLToPath(new URL("public", import.meta.url)))],
  // Code shared with the server (API shapes, tool presets); keep imports from it free of Node.
  resolve: { alias: { $common: fileURLToPath(new URL("../src/common", import.meta.url)) } },
  build: {
    outDir: "../dist/web",
    emptyOutDir: true,
    // Inlined assets would become data: URLs in CSS and scripts; keeping them as
    // files keeps the CSP honest and the bundle cacheable.
    assetsInlineLimit: 0,
    target: "es2022",
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL("index.html", import.meta.url)),
        // The background-removal page is its own document: it alone runs under the relaxed script
        // policy that ONNX Runtime needs (src/http/web.ts).
        "remove-background": fileURLToPath(new URL("remove-background.html", import.meta.url)),
        // The service worker, at the root so that its scope is the whole app.
        sw: fileURLToPath(new URL("src/sw.ts", import.meta.url)),
      },
      output: { entryFileNames: (chunk) => (chunk.name === "sw" ? "sw.js" : "assets/[name]-[hash].js") },
    },
  },
  worker: { format: "es" },
  server: {
    // In development the API, raw images and docs come from a running server.
    proxy: {
      "/api": apiTarget,
      "/docs": apiTarget,
      "^/i/[^/]+/(raw|thumb)": apiTarget,
    },
  },
});
