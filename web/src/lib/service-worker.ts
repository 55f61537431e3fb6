/** Installs /sw.js (web/src/sw.ts), which keeps the app usable offline once it has been loaded. */
export function registerServiceWorker(): void {
  // The development server has no built /sw.js.
  if (!import.meta.env.PROD || !("serviceWorker" in navigator)) return;
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
      // Offline use is a convenience; the app works without it.
    });
  });
}
