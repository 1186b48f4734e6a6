import { describe, expect, test } from "vitest";

import { AuthSession, REFRESH_KEY } from "./auth";
import { ApiError } from "./errors";
import { fakeFetch, jsonResponse } from "../test/fakes";

const API = "http://127.0.0.1:3000";

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

function manualTimers() {
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  return {
    timers,
    setTimer: (fn: () => void, ms: number) => {
      const timer = { fn, ms, cleared: false };
      timers.push(timer);
      return timer;
    },
    clearTimer: (handle: unknown) => void ((handle as { cleared: boolean }).cleared = true),
    pending: () => timers.filter((t) => !t.cleared),
    /** Run the one pending timer, as its time came. */
    fire: () => {
      const [timer] = timers.filter((t) => !t.cleared);
      timer.cleared = true;
      timer.fn();
    },
  };
}

const pair = (n: number, expiresIn = 900) => ({
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  token_type: "bearer",
  expires_in: expiresIn,
});

describe("the login session", () => {
  test("login keeps the access token in memory and the refresh token in session storage", async () => {
    const storage = memoryStorage();
    const { fetch, calls } = fakeFetch(() => jsonResponse(200, pair(1)));
    const timers = manualTimers();
    const session = new AuthSession({ apiUrl: API, fetch, storage, ...timers });
    await session.login("me@example.com", "correct-horse-9");
    expect(calls[0].url).toBe(`${API}/api/v1/auth/login`);
    expect(calls[0].body).toEqual({ email: "me@example.com", password: "correct-horse-9" });
    expect(session.state).toBe("authenticated");
    expect(await session.accessToken()).toBe("access-1");
    expect([...storage.data]).toEqual([[REFRESH_KEY, "refresh-1"]]); // no access token in storage
  });

  test("refreshes a minute before expiry and keeps the rotated refresh token", async () => {
    const storage = memoryStorage();
    let n = 0;
    const { fetch, calls } = fakeFetch(() => jsonResponse(200, pair(++n)));
    const timers = manualTimers();
    const session = new AuthSession({ apiUrl: API, fetch, storage, ...timers });
    await session.login("me@example.com", "pw-123456");
    expect(timers.pending().map((t) => t.ms)).toEqual([840_000]); // 15 min − 1 min
    timers.fire();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls[1].url).toBe(`${API}/api/v1/auth/refresh`);
    expect(calls[1].body).toEqual({ refresh_token: "refresh-1" });
    expect(storage.getItem(REFRESH_KEY)).toBe("refresh-2");
    expect(await session.accessToken()).toBe("access-2");
    expect(timers.pending()).toHaveLength(1); // the next refresh is scheduled, the old one is gone
  });

  test("an expired access token is refreshed before use", async () => {
    let now = 1_000_000;
    let n = 0;
    const { fetch, calls } = fakeFetch(() => jsonResponse(200, pair(++n)));
    const session = new AuthSession({ apiUrl: API, fetch, storage: memoryStorage(), now: () => now, ...manualTimers() });
    await session.login("a@b.co", "pw-123456");
    now += 900_000; // 15 minutes later, the background timer having not run (tab asleep)
    expect(await session.accessToken()).toBe("access-2");
    expect(calls.map((c) => new URL(c.url).pathname)).toEqual(["/api/v1/auth/login", "/api/v1/auth/refresh"]);
  });

  test("concurrent refreshes share one request (a spent refresh token must never be sent twice)", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { fetch, calls } = fakeFetch(async () => {
      await gate;
      return jsonResponse(200, pair(2));
    });
    const session = new AuthSession({ apiUrl: API, fetch, storage: memoryStorage({ [REFRESH_KEY]: "refresh-1" }), ...manualTimers() });
    const both = Promise.all([session.restore(), session.refresh(), session.accessToken()]);
    release();
    const [, a, b] = await both;
    expect([a, b]).toEqual(["access-2", "access-2"]);
    expect(calls).toHaveLength(1);
  });

  test("a refused refresh (spent or revoked) ends the session", async () => {
    const storage = memoryStorage({ [REFRESH_KEY]: "refresh-spent" });
    const { fetch } = fakeFetch(() => jsonResponse(401, { error: { code: "unauthorized", message: "token revoked", details: [] } }));
    const session = new AuthSession({ apiUrl: API, fetch, storage, ...manualTimers() });
    const states: string[] = [];
    session.subscribe((s) => states.push(s));
    expect(await session.restore()).toBe("anonymous");
    expect(storage.getItem(REFRESH_KEY)).toBeNull();
    expect(states).toEqual(["anonymous"]);
  });

  test("a refresh that fails for the server (503) keeps the session for a later try", async () => {
    const storage = memoryStorage();
    let status = 200;
    const { fetch } = fakeFetch(() => (status === 200 ? jsonResponse(200, pair(1)) : jsonResponse(503, { error: { code: "unavailable", message: "down" } })));
    const session = new AuthSession({ apiUrl: API, fetch, storage, ...manualTimers() });
    await session.login("a@b.co", "pw-123456");
    status = 503;
    await expect(session.refresh()).rejects.toBeInstanceOf(ApiError);
    expect(session.state).toBe("authenticated");
    expect(storage.getItem(REFRESH_KEY)).toBe("refresh-1");
  });

  test("logout revokes on the server with both tokens and forgets them here", async () => {
    const storage = memoryStorage();
    const { fetch, calls } = fakeFetch((r) => (r.url.endsWith("/login") ? jsonResponse(200, pair(1)) : jsonResponse(204)));
    const timers = manualTimers();
    const session = new AuthSession({ apiUrl: API, fetch, storage, ...timers });
    await session.login("a@b.co", "pw-123456");
    await session.logout();
    expect(calls[1].url).toBe(`${API}/api/v1/auth/logout`);
    expect(calls[1].headers.get("authorization")).toBe("Bearer access-1");
    expect(calls[1].body).toEqual({ refresh_token: "refresh-1" });
    expect(session.state).toBe("anonymous");
    expect(storage.getItem(REFRESH_KEY)).toBeNull();
    expect(timers.pending()).toHaveLength(0);
  });

  test("register and login errors carry the API's code and field details", async () => {
    const { fetch } = fakeFetch(() =>
      jsonResponse(422, {
        error: { code: "invalid_input", message: "password: must contain at least one digit", details: [{ field: "password", message: "must contain at least one digit" }] },
      }),
    );
    const session = new AuthSession({ apiUrl: API, fetch, storage: memoryStorage(), ...manualTimers() });
    const error = await session.register("a@b.co", "password").catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("invalid_input");
    expect(error.fieldMessage("password")).toBe("must contain at least one digit");
  });
});
