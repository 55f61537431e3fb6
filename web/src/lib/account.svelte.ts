/**
 * The signed-in account, as this browser sees it. The session itself is an HttpOnly cookie the
 * page cannot read; a marker in localStorage (no secret: "this browser signed in once") spares
 * anonymous visitors a /api/v1/me request on every page load. Account pages always ask.
 */
import { ApiError, errorFromBody } from "./api.js";

export interface SessionInfo {
  id: string;
  createdAt: string | null;
  lastSeenAt: string | null;
  expiresAt: string | null;
  network: string | null;
  userAgent: string | null;
  secondFactor: boolean;
  current: boolean;
}

export interface AccountInfo {
  id: string;
  email: string;
  name: string;
  emailVerified: boolean;
  role: string;
  twoFactorEnabled: boolean;
  createdAt: string | null;
  signInMethods: string[];
  passkeys: { id: string; name: string | null; createdAt: string | null }[];
}

export interface Me {
  account: AccountInfo;
  sessions: SessionInfo[];
}

export interface SignInOptions {
  registration: "open" | "invite" | "closed";
  emailVerification: boolean;
  providers: { id: string; name: string }[];
}

const MARKER_KEY = "pixhaven.signedIn";

function readMarker(): boolean {
  try {
    return localStorage.getItem(MARKER_KEY) === "1";
  } catch {
    return false;
  }
}

function writeMarker(signedIn: boolean): void {
  try {
    if (signedIn) localStorage.setItem(MARKER_KEY, "1");
    else localStorage.removeItem(MARKER_KEY);
  } catch {
    // Without storage the header simply shows "Sign in" until an account page is opened.
  }
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/**
 * One call to the accounts API. Same-origin fetch sends the session cookie and, for POST and
 * DELETE, the page's Origin, which the server requires of every cookie-authenticated write.
 */
export async function accountCall<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const parsed = await readBody(res);
  if (!res.ok) throw errorFromBody(res.status, parsed);
  return parsed as T;
}

let optionsPromise: Promise<SignInOptions> | undefined;

/** The registration policy and the SSO providers this server offers (asked once per page load). */
export function signInOptions(): Promise<SignInOptions> {
  optionsPromise ??= accountCall<SignInOptions>("GET", "/api/v1/auth/providers").catch((err: unknown) => {
    optionsPromise = undefined;
    throw err;
  });
  return optionsPromise;
}

class AccountState {
  /** undefined: not asked yet; null: signed out */
  me = $state<Me | null | undefined>(readMarker() ? undefined : null);
  #loading: Promise<Me | null> | undefined;

  get signedIn(): boolean {
    return !!this.me;
  }

  /** Asks the server who this browser is signed in as. */
  refresh(): Promise<Me | null> {
    this.#loading ??= accountCall<Me>("GET", "/api/v1/me")
      .then(
        (me) => {
          this.#set(me);
          return me;
        },
        (err: unknown) => {
          if (err instanceof ApiError && err.status === 401) {
            this.#set(null);
            return null;
          }
          throw err;
        },
      )
      .finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  /** At start-up: ask only when this browser signed in before. */
  restore(): void {
    if (readMarker()) void this.refresh().catch(() => undefined);
  }

  async signOut(): Promise<void> {
    await accountCall("POST", "/api/auth/sign-out", {}).catch((err: unknown) => {
      // Already signed out elsewhere: the outcome is the same.
      if (!(err instanceof ApiError && err.status === 401)) throw err;
    });
    this.#set(null);
  }

  /** After the account was deleted or the session revoked: forget it here too. */
  forget(): void {
    this.#set(null);
  }

  #set(me: Me | null): void {
    this.me = me;
    writeMarker(!!me);
  }
}

export const account = new AccountState();
