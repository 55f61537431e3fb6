export type Route =
  | { name: "home" }
  | { name: "viewer"; id: string }
  | { name: "tools" }
  | { name: "tool-history" }
  | { name: "tool"; tool: string }
  | { name: "account"; page: AccountPage }
  | { name: "privacy" }
  | { name: "contact" }
  | { name: "not-found" };

/** The account pages under /account/ ("dashboard" is /account itself). */
export const ACCOUNT_PAGES = ["dashboard", "sign-in", "sign-up", "forgot", "reset", "verified", "settings", "deleted"] as const;
export type AccountPage = (typeof ACCOUNT_PAGES)[number];
const accountPath = /^\/account(?:\/([a-z-]+))?\/?$/;

const viewerPath = /^\/i\/([A-Za-z0-9_-]+)\/?$/;
const toolPath = /^\/tools\/([a-z0-9-]+)\/?$/;

export function matchRoute(pathname: string): Route {
  if (pathname === "/" || pathname === "/index.html") return { name: "home" };
  const viewer = viewerPath.exec(pathname);
  if (viewer) return { name: "viewer", id: viewer[1]! };
  if (pathname === "/tools" || pathname === "/tools/") return { name: "tools" };
  // "history" is a page, not a tool: no tool may take that name.
  if (pathname === "/tools/history" || pathname === "/tools/history/") return { name: "tool-history" };
  if (pathname === "/privacy" || pathname === "/privacy/") return { name: "privacy" };
  if (pathname === "/contact" || pathname === "/contact/") return { name: "contact" };
  const account = accountPath.exec(pathname);
  // The dashboard is /account itself, never /account/dashboard.
  if (account && account[1] !== "dashboard") {
    const page = (account[1] ?? "dashboard") as AccountPage;
    if (ACCOUNT_PAGES.includes(page)) return { name: "account", page };
  }
  const tool = toolPath.exec(pathname);
  if (tool) return { name: "tool", tool: tool[1]! };
  return { name: "not-found" };
}

let pathname = $state(location.pathname);

window.addEventListener("popstate", () => {
  pathname = location.pathname;
});

export const router = {
  get route(): Route {
    return matchRoute(pathname);
  },
  navigate(to: string): void {
    const url = new URL(to, location.href);
    history.pushState(null, "", url.pathname + url.search + url.hash);
    pathname = url.pathname;
    window.scrollTo(0, 0);
  },
};

/**
 * Turns clicks on same-origin links to known pages into in-app navigation, so
 * uploads in progress on the home page keep running while a result is viewed.
 */
export function interceptLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest?.("a");
  if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
  const url = new URL(anchor.href, location.href);
  // In-page anchors such as the skip link keep their native behaviour.
  if (url.pathname === location.pathname && url.hash) return;
  if (url.origin !== location.origin || matchRoute(url.pathname).name === "not-found") return;
  event.preventDefault();
  if (url.pathname !== location.pathname) router.navigate(url.href);
}
