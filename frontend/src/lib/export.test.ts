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

describe("CSV export", () => {
  test("every page of the raw events, asked with the cursor of the one before, saved as one file", async () => {
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

  test("a refused export is the API's error", async () => {
    const { fetch } = fakeFetch(
      () => new Response(JSON.stringify({ error: { code: "forbidden", message: "this share link does not include the raw events and users", details: [] } }), { status: 403, headers: { "content-type": "application/json" } }),
    );
    const api = createApi(API, session, fetch);
    await expect(api.exportReport("p-1", "events", { range: "7d", tz: "UTC" })).rejects.toMatchObject({ status: 403 });
  });
});
