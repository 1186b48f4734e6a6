import { afterEach, describe, expect, test, vi } from "vitest";

import { createApi } from "./api";
import type { TokenSource } from "./api";
import { fakeFetch } from "../test/fakes";

const API = "http://127.0.0.1:3000";
const session: TokenSource = { accessToken: async () => "share-1", refresh: async () => "share-2" };

function csv(body: string, headers: Record<string, string> = {}) {
  return new Response(body, { status: 200, headers: { "content-type": "text/csv; charset=utf-8", ...headers } });
}

afterEach(() => vi.restoreAllMocks());

/** What the browser would save: each file's Blob and name. */
function captureDownloads() {
  const saved: Blob[] = [];
  const names: string[] = [];
  URL.createObjectURL = vi.fn((blob: Blob) => {
    saved.push(blob);
    return "blob:x";
  }) as typeof URL.createObjectURL;
  URL.revokeObjectURL = vi.fn();
  vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
    names.push(this.download);
  });
  return { saved, names };
}

describe("CSV export", () => {
  test("every page of the raw events, asked with the cursor of the one before, saved as one file", async () => {
    const { saved, names } = captureDownloads();
    const pages = [
      csv("uuid,timestamp\r\na,1\r\n", { "x-next-cursor": "c1", "content-disposition": 'attachment; filename="pulse-events-1.csv"' }),
      csv("b,2\r\n", { "x-next-cursor": "c2" }),
      csv("c,3\r\n"),
    ];
    const { fetch, calls } = fakeFetch(() => pages.shift() as Response);
    const api = createApi(API, session, fetch);
    expect(await api.exportRawEvents("p-1", { range: "7d", tz: "UTC" })).toBe(3);
    expect(calls.map((r) => new URL(r.url).searchParams.get("cursor"))).toEqual([null, "c1", "c2"]);
    expect(calls.every((r) => new URL(r.url).pathname === "/api/v1/analytics/p-1/events.csv")).toBe(true);
    expect(calls[0].headers.get("authorization")).toBe("Bearer share-1");
    expect(await saved[0].text()).toBe("uuid,timestamp\r\na,1\r\nb,2\r\nc,3\r\n");
    expect(names).toEqual(["pulse-events-1.csv"]);
  });

  test("a paged report is asked 1,000 rows a page, by each page's next cursor, and saved as one file", async () => {
    const { saved } = captureDownloads();
    const pages = [
      csv("session_id,events\r\ns1,3\r\n", { "x-next-cursor": "k1", "content-disposition": 'attachment; filename="pulse-sessions-1.csv"' }),
      csv("s2,1\r\n"),
    ];
    const { fetch, calls } = fakeFetch(() => pages.shift() as Response);
    const api = createApi(API, session, fetch);
    expect(await api.exportReport("p-1", "sessions", { range: "7d", tz: "UTC" }, ["country:DE"])).toBe(2);
    const asked = calls.map((r) => new URL(r.url));
    expect(asked.map((u) => u.pathname)).toEqual(["/api/v1/analytics/p-1/export/sessions", "/api/v1/analytics/p-1/export/sessions"]);
    expect(asked.map((u) => u.searchParams.get("cursor"))).toEqual([null, "k1"]);
    expect(asked.every((u) => u.searchParams.get("limit") === "1000" && u.searchParams.get("filter") === "country:DE")).toBe(true);
    expect(await saved[0].text()).toBe("session_id,events\r\ns1,3\r\ns2,1\r\n");
  });

  test("a report that is not paged is one request with the report's own limit", async () => {
    captureDownloads();
    const { fetch, calls } = fakeFetch(() => csv("name,count\r\nbuy,3\r\n"));
    const api = createApi(API, session, fetch);
    expect(await api.exportReport("p-1", "top-events", { range: "7d", tz: "UTC" })).toBe(1);
    expect(calls).toHaveLength(1);
    expect(new URL(calls[0].url).searchParams.get("limit")).toBeNull();
  });

  test("a refused export is the API's error", async () => {
    const { fetch } = fakeFetch(
      () => new Response(JSON.stringify({ error: { code: "forbidden", message: "this share link does not include the raw events and users", details: [] } }), { status: 403, headers: { "content-type": "application/json" } }),
    );
    const api = createApi(API, session, fetch);
    await expect(api.exportReport("p-1", "events", { range: "7d", tz: "UTC" })).rejects.toMatchObject({ status: 403 });
  });
});
