// The login session. Decision (docs/architecture.md, "Token storage"):
// - the access token (15 min) lives in memory only, never in storage an injected script can read
//   later; it is refreshed a minute before it expires;
// - the refresh token (30 days, rotated on every use, reuse revokes the whole login) is kept in
//   sessionStorage so that a reload of the tab stays logged in; it is never sent anywhere but
//   POST /auth/refresh and /auth/logout, and a closed tab forgets it.
// Refreshes are single-flight: two callers (or React's strict-mode double effects) share one
// request, because presenting a spent refresh token twice would revoke the login.

import type { components } from "./api-schema";
import { ApiError } from "./errors";

type TokenPair = components["schemas"]["TokenPairOut"];
export type User = components["schemas"]["UserOut"];

export const REFRESH_KEY = "pulse_refresh_token";
const REFRESH_MARGIN_MS = 60_000;

export type AuthState = "unknown" | "anonymous" | "authenticated";

export interface AuthSessionOptions {
  /** Absolute URL the API's paths are appended to. */
  apiUrl: string;
  fetch?: typeof fetch;
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

async function postJson(fetchImpl: typeof fetch, url: string, body: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetchImpl(url, { method: "POST", headers, body: JSON.stringify(body) });
}

async function failure(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON */
  }
  return ApiError.fromBody(response.status, body);
}

export class AuthSession {
  private readonly apiUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly storage: AuthSessionOptions["storage"];
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private access: { token: string; expiresAt: number } | null = null;
  private refreshing: Promise<string> | null = null;
  private timer: unknown = null;
  private listeners = new Set<(state: AuthState) => void>();
  state: AuthState = "unknown";

  constructor(options: AuthSessionOptions) {
    this.apiUrl = options.apiUrl.replace(/\/$/, "");
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
    this.storage = options.storage === undefined ? safeSessionStorage() : options.storage;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  }

  subscribe(listener: (state: AuthState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setState(state: AuthState): void {
    if (this.state === state) return;
    this.state = state;
    for (const listener of this.listeners) listener(state);
  }

  private url(path: string): string {
    return `${this.apiUrl}/api/v1${path}`;
  }

  private store(pair: TokenPair): string {
    this.access = { token: pair.access_token, expiresAt: this.now() + pair.expires_in * 1000 };
    this.storage?.setItem(REFRESH_KEY, pair.refresh_token); // the rotated one replaces the spent one
    if (this.timer !== null) this.clearTimer(this.timer);
    const due = Math.max(0, pair.expires_in * 1000 - REFRESH_MARGIN_MS);
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.refresh().catch(() => {
        /* a failed background refresh is retried on the next request */
      });
    }, due);
    this.setState("authenticated");
    return pair.access_token;
  }

  private clear(): void {
    this.access = null;
    this.storage?.removeItem(REFRESH_KEY);
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.setState("anonymous");
  }

  /** The API answers 202 alike for a new and a taken email (no account enumeration): the login
   * that follows tells them apart. */
  async register(email: string, password: string): Promise<void> {
    const response = await postJson(this.fetchImpl, this.url("/auth/register"), { email, password });
    if (!response.ok) throw await failure(response);
  }

  async login(email: string, password: string): Promise<void> {
    const response = await postJson(this.fetchImpl, this.url("/auth/login"), { email, password });
    if (!response.ok) throw await failure(response);
    this.store((await response.json()) as TokenPair);
  }

  /** On start: a refresh token from this tab's earlier page means a session to resume. */
  async restore(): Promise<AuthState> {
    if (this.state === "authenticated") return this.state;
    if (!this.storage?.getItem(REFRESH_KEY)) {
      this.setState("anonymous");
      return this.state;
    }
    try {
      await this.refresh();
    } catch {
      if ((this.state as AuthState) !== "authenticated") this.setState("anonymous");
    }
    return this.state;
  }

  /** A valid access token, refreshed first when it is (nearly) expired. */
  async accessToken(): Promise<string> {
    if (this.access && this.access.expiresAt - this.now() > REFRESH_MARGIN_MS / 2) return this.access.token;
    return this.refresh();
  }

  /** Trade the refresh token for a new pair (single flight). 401 ends the session. */
  refresh(): Promise<string> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<string> {
    const refreshToken = this.storage?.getItem(REFRESH_KEY);
    if (!refreshToken) {
      this.clear();
      throw new ApiError(401, "unauthorized", "Please log in");
    }
    const response = await postJson(this.fetchImpl, this.url("/auth/refresh"), { refresh_token: refreshToken });
    if (response.status === 401) {
      this.clear();
      throw await failure(response);
    }
    if (!response.ok) throw await failure(response); // 503 and the like: keep the session, retry later
    return this.store((await response.json()) as TokenPair);
  }

  async logout(): Promise<void> {
    const refreshToken = this.storage?.getItem(REFRESH_KEY) ?? undefined;
    const token = this.access?.token;
    this.clear();
    if (!token) return;
    try {
      await postJson(this.fetchImpl, this.url("/auth/logout"), { refresh_token: refreshToken }, token);
    } catch {
      /* logged out here whatever the network says */
    }
  }
}

function safeSessionStorage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.sessionStorage;
  } catch {
    return null;
  }
}
