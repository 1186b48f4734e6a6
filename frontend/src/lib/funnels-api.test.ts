import { describe, expect, test } from "vitest";

import { AuthSession, REFRESH_KEY } from "./auth";
import { createFunnelsApi } from "./funnels-api";
import { fakeFetch, jsonResponse } from "../test/fakes";

const API = "http://127.0.0.1:3000";
const tokens = { access_token: "access-1", refresh_token: "refresh-1", token_type: "bearer", expires_in: 900 };

function setup(answer: unknown) {
  const { fetch, calls } = fakeFetch((r) => (r.url.includes("/auth/refresh") ? jsonResponse(200, tokens) : jsonResponse(200, answer)));
  const data = new Map([[REFRESH_KEY, "refresh-0"]]);
  const storage = { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v), removeItem: (k: string) => void data.delete(k) };
  const session = new AuthSession({ apiUrl: API, fetch, storage, setTimer: () => 0, clearTimer: () => {} });
  return { api: createFunnelsApi(API, session, fetch), calls };
}

describe("the funnels and retention client", () => {
  test("creates a funnel with its steps in the body and the bearer token", async () => {
    const { api, calls } = setup({ id: "f-1" });
    const body = { name: "Signup", steps: [{ event: "page_view", page: "/pricing" }, { event: "signup" }], window: "1h", by: "user" as const };
    await api.createFunnel("p-1", body);
    const request = calls[calls.length - 1];
    expect(request.method).toBe("POST");
    expect(new URL(request.url).pathname).toBe("/api/v1/projects/p-1/funnels");
    expect(request.body).toEqual(body);
    expect(request.headers.get("authorization")).toBe("Bearer access-1");
  });

  test("asks for a saved funnel's result and for retention with the whole range", async () => {
    const { api, calls } = setup({});
    await api.funnelResult("p-1", "f-1", { range: "30d", tz: "Europe/Paris" });
    let url = new URL(calls[calls.length - 1].url);
    expect(url.pathname).toBe("/api/v1/analytics/p-1/funnels/f-1");
    expect(Object.fromEntries(url.searchParams)).toEqual({ range: "30d", tz: "Europe/Paris" });
    await api.retention("p-1", { from: "2026-02-01T00:00:00", to: "2026-02-08T00:00:00", tz: "UTC" }, "week", "buy");
    url = new URL(calls[calls.length - 1].url);
    expect(url.pathname).toBe("/api/v1/analytics/p-1/retention");
    expect(Object.fromEntries(url.searchParams)).toEqual({ from: "2026-02-01T00:00:00", to: "2026-02-08T00:00:00", tz: "UTC", period: "week", return_event: "buy" });
    await api.retention("p-1", { range: "7d", tz: "UTC" }, "day");
    expect(new URL(calls[calls.length - 1].url).searchParams.has("return_event")).toBe(false);
  });
});
