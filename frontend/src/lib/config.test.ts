import { afterEach, describe, expect, test } from "vitest";

import { loadConfig, parseConfig, resetConfigForTests } from "./config";
import { snippetFor } from "../components/Snippet";
import { fakeFetch, jsonResponse } from "../test/fakes";

afterEach(() => resetConfigForTests());

describe("/config.json", () => {
  test("relative URLs are made absolute against the page's origin", () => {
    expect(parseConfig({ apiUrl: "", wsUrl: "ws://127.0.0.1:8001/live", sdkUrl: "/sdk/tracker.min.js" }, "http://127.0.0.1:3000")).toEqual({
      apiUrl: "http://127.0.0.1:3000",
      wsUrl: "ws://127.0.0.1:8001/live",
      sdkUrl: "http://127.0.0.1:3000/sdk/tracker.min.js",
    });
  });

  test("the ingest URL is kept when the deployment has one, and absent otherwise", () => {
    const raw = { apiUrl: "", wsUrl: "wss://ws.example/live", sdkUrl: "/sdk/tracker.min.js" };
    const ingestUrl = "https://abc.lambda-url.us-east-1.on.aws/api/v1/events/ingest";
    expect(parseConfig({ ...raw, ingestUrl }, "https://d.example").ingestUrl).toBe(ingestUrl);
    expect(parseConfig({ ...raw, ingestUrl: "" }, "https://d.example")).not.toHaveProperty("ingestUrl");
    expect(parseConfig(raw, "https://d.example")).not.toHaveProperty("ingestUrl");
  });

  test("the snippet points the tracker at the ingest URL when there is one", () => {
    expect(snippetFor("https://d.example/sdk/tracker.min.js", "proj_1")).toBe(
      '<script src="https://d.example/sdk/tracker.min.js" data-project="proj_1" defer></script>',
    );
    expect(snippetFor("https://d.example/sdk/tracker.min.js", "proj_1", "https://u.example/api/v1/events/ingest")).toBe(
      '<script src="https://d.example/sdk/tracker.min.js" data-project="proj_1" data-api="https://u.example/api/v1/events/ingest" defer></script>',
    );
  });

  test("a config without the WebSocket URL is refused", () => {
    expect(() => parseConfig({ apiUrl: "" }, "http://x")).toThrow(/wsUrl/);
    expect(() => parseConfig(null, "http://x")).toThrow();
  });

  test("fetched once; a failure is retried on the next call", async () => {
    let answer = 503;
    const { fetch, calls } = fakeFetch(() => jsonResponse(answer, { apiUrl: "", wsUrl: "wss://ws.example/live" }));
    await expect(loadConfig(fetch)).rejects.toThrow(/503/);
    answer = 200;
    const config = await loadConfig(fetch);
    await loadConfig(fetch);
    expect(config.wsUrl).toBe("wss://ws.example/live");
    expect(calls.map((c) => new URL(c.url).pathname)).toEqual(["/config.json", "/config.json"]);
  });
});
