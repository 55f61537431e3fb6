/** @type {import("@sveltejs/vite-plugin-svelte").SvelteConfig} */
export default {
  // Runes everywhere: a component accidentally written in legacy mode fails to compile.
  compilerOptions: { runes: true },
};
