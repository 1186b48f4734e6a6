import { describe, expect, test } from "vitest";

import { createApi } from "./api";
import { AuthSession, REFRESH_KEY } from "./auth";
import { ApiError } from "./errors";
import { fakeFetch, jsonResponse } from "../test/fakes";

const API = "http://127.0.0.1:3000";

function storageWith(refresh: string) {
  const data = new Map([[REFRESH_KEY, refresh]]);
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v), removeItem: (k: string) => void data.delete(k) };
}

function setup(handler: Parameters<typeof fakeFetch>[0]) {
  const { fetch, calls } = fakeFetch(handler);
  const session = new AuthSession({ apiUrl: API, fetch, storage: storageWith("refresh-0"), setTimer: () => 0, clearTimer: () => {} });
  return { api: createApi(API, session, fetch), session, calls };
}

const tokens = (n: number) => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: "bearer", expires_in: 900 });

describe("the API client", () => {
  test("sends the whole request: path, range, tz, filters and the bearer token", async () => {
    const { api, calls } = setup((r) =>
      r.url.includes("/auth/refresh") ? jsonResponse(200, tokens(1)) : jsonResponse(200, { total_events: 3 }),
    );
    const overview = await api.overview("p-1", { range: "30d", tz: "Europe/Paris" }, "signup");
    expect(overview).toEqual({ total_events: 3 });
    const request = calls[calls.length - 1];
    const url = new URL(request.url);
    expect(url.pathname).toBe("/api/v1/analytics/p-1/overview");
    expect(Object.fromEntries(url.searchParams)).toEqual({ range: "30d", tz: "Europe/Paris", event: "signup" });
    expect(request.headers.get("authorization")).toBe("Bearer access-1");
  });

  test("leaves out empty filters and a null cursor", async () => {
    const { api, calls } = setup((r) => (r.url.includes("/auth/") ? jsonResponse(200, tokens(1)) : jsonResponse(200, { events: [], next_cursor: null })));
    await api.events("p-1", { from: "2026-02-01T00:00:00", to: "2026-02-02T00:00:00", tz: "UTC" }, { event: "", distinct_id: "u1" }, { limit: 20, cursor: null });
    const url = new URL(calls[calls.length - 1].url);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      from: "2026-02-01T00:00:00",
      to: "2026-02-02T00:00:00",
      tz: "UTC",
      distinct_id: "u1",
      limit: "20",
    });
  });

  test("a refused token is refreshed once and the request retried with the new one", async () => {
    let refreshes = 0;
    const { api, calls } = setup((r) => {
      if (r.url.includes("/auth/refresh")) return jsonResponse(200, tokens(++refreshes));
      return r.headers.get("authorization") === "Bearer access-1"
        ? jsonResponse(401, { error: { code: "unauthorized", message: "token revoked", details: [] } })
        : jsonResponse(200, { projects: [] });
    });
    expect(await api.listProjects()).toEqual({ projects: [] });
    expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname} ${c.headers.get("authorization") ?? ""}`.trim())).toEqual([
      "POST /api/v1/auth/refresh",
      "GET /api/v1/projects Bearer access-1",
      "POST /api/v1/auth/refresh",
      "GET /api/v1/projects Bearer access-2",
    ]);
  });

  test("a POST body survives the retry", async () => {
    let refreshes = 0;
    let first = true;
    const { api, calls } = setup((r) => {
      if (r.url.includes("/auth/refresh")) return jsonResponse(200, tokens(++refreshes));
      if (first) {
        first = false;
        return jsonResponse(401, { error: { code: "unauthorized", message: "expired" } });
      }
      return jsonResponse(201, { id: "p", name: "Shop" });
    });
    await api.createProject({ name: "Shop", domain: "shop.example" });
    const posts = calls.filter((c) => c.url.endsWith("/api/v1/projects"));
    expect(posts.map((c) => c.body)).toEqual([
      { name: "Shop", domain: "shop.example" },
      { name: "Shop", domain: "shop.example" },
    ]);
  });

  test("errors come back as ApiError with the API's code and field details", async () => {
    const { api } = setup((r) =>
      r.url.includes("/auth/")
        ? jsonResponse(200, tokens(1))
        : jsonResponse(422, { error: { code: "invalid_input", message: "tz: unknown time zone", details: [{ field: "tz", message: "unknown time zone" }] } }),
    );
    const error = await api.overview("p-1", { range: "7d", tz: "Mars/Olympus" }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.fieldMessage("tz")).toBe("unknown time zone");
  });
});
