// A share link's session (docs/api.md, "Share links"): the link's token comes from the URL's
// fragment (never sent to a server by the browser), the password from the visitor. Opening
// the link gives a short-lived share token for the analytics routes; when it expires the link
// is opened again with what was given (a revoked link then fails, and the view says so).

import type { components } from "./api-schema";
import { ApiError } from "./errors";

export type ShareOpened = components["schemas"]["ShareSessionOut"];

const MARGIN_MS = 60_000;

/** The token in a share URL's fragment (`/share/#shr_…`), or null. */
export function tokenFromHash(hash: string): string | null {
  const token = decodeURIComponent(hash.replace(/^#/, "")).trim();
  return /^shr_[A-Za-z0-9_-]{20,}$/.test(token) ? token : null;
}

export class ShareSession {
  private access: { token: string; expiresAt: number } | null = null;
  private opening: Promise<string> | null = null;
  opened: ShareOpened | null = null;

  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
    private password: string | null = null,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
    private readonly now: () => number = Date.now,
  ) {}

  /** Open the link (with `password` when given); throws the API's error (401: password, 404: gone). */
  async open(password?: string): Promise<ShareOpened> {
    if (password !== undefined) this.password = password;
    await this.refresh();
    return this.opened as ShareOpened;
  }

  async accessToken(): Promise<string> {
    if (this.access && this.access.expiresAt - this.now() > MARGIN_MS) return this.access.token;
    return this.refresh();
  }

  refresh(): Promise<string> {
    if (!this.opening) {
      this.opening = this.doOpen().finally(() => {
        this.opening = null;
      });
    }
    return this.opening;
  }

  private async doOpen(): Promise<string> {
    const body: Record<string, string> = { token: this.token };
    if (this.password) body.password = this.password;
    const response = await this.fetchImpl(`${this.apiUrl.replace(/\/$/, "")}/api/v1/share/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    let payload: unknown = null;
    try {
      payload = await response.json();
    } catch {
      /* not JSON */
    }
    if (!response.ok) throw ApiError.fromBody(response.status, payload);
    this.opened = payload as ShareOpened;
    this.access = { token: this.opened.access_token, expiresAt: this.now() + this.opened.expires_in * 1000 };
    return this.opened.access_token;
  }
}
