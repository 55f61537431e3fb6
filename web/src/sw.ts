/**
 * Pixhaven's service worker, built to /sw.js. Once the app has been loaded it works offline: the
 * app shell, its scripts and styles, the codecs' .wasm files and (once fetched) the background-
 * removal model are answered from caches. The API, the image pages and images (/api/, /i/) and
 * anything not a GET always go to the network and are never stored: no upload, result or user
 * image ever lands in these caches.
 */

// Filled in at build time (web/build/service-worker.ts): the build's ID and every file to keep.
const BUILD = "__PIXHAVEN_BUILD__";
const PRECACHE: string[] = JSON.parse("__PIXHAVEN_PRECACHE__");

const SHELL_CACHE = `pixhaven-shell-${BUILD}`;
// Content-addressed, so it survives new builds; only the model files go in it.
const MODEL_CACHE = "pixhaven-models";
const MODEL_PATH = "/models/background-removal/";
const LOCAL_PAGE = "/tools/remove-background/local";

// The few members of the service worker scope this file uses (the DOM library has no types for it).
interface FetchEvent extends Event {
  request: Request;
  respondWith(response: Promise<Response>): void;
}
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface ServiceWorkerScope {
  location: Location;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(type: "install" | "activate", listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void;
}
const sw = self as unknown as ServiceWorkerScope;

sw.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL_CACHE && k !== MODEL_CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

/** Pages the app draws itself: "/", "/tools" and "/tools/..." (the image pages /i/ are not kept). */
function isAppPage(path: string): boolean {
  return path === "/" || path === "/tools" || path.startsWith("/tools/");
}

async function networkFirst(request: Request, fallback: string): Promise<Response> {
  try {
    return await fetch(request);
  } catch (err) {
    const cached = await caches.match(fallback, { cacheName: SHELL_CACHE });
    if (cached) return cached;
    throw err;
  }
}

async function cacheFirst(request: Request, cacheName: string): Promise<Response> {
  const cache = await caches.open(cacheName);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.status === 200) await cache.put(request, response.clone());
  return response;
}

async function freshOrCached(request: Request, cacheName: string): Promise<Response> {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(request);
    if (cached) return cached;
    throw err;
  }
}

sw.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;
  const path = url.pathname;
  // Privacy: the API, image pages and image bytes always go to the network and are never stored.
  if (path.startsWith("/api/") || path.startsWith("/i/") || path.startsWith("/docs")) return;

  if (request.mode === "navigate") {
    if (!isAppPage(path)) return;
    const page = path === LOCAL_PAGE || path === `${LOCAL_PAGE}/` ? LOCAL_PAGE : "/";
    event.respondWith(networkFirst(request, page));
  } else if (path.startsWith(MODEL_PATH)) {
    // The chunks are named by their hash; only their index can change.
    event.respondWith(path.endsWith(".json") ? freshOrCached(request, MODEL_CACHE) : cacheFirst(request, MODEL_CACHE));
  } else if (path.startsWith("/assets/")) {
    event.respondWith(cacheFirst(request, SHELL_CACHE));
  } else if (PRECACHE.includes(path)) {
    event.respondWith(freshOrCached(request, SHELL_CACHE));
  }
});
