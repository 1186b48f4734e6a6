// Requests: format, endpoint, splitting, retries, persistence across reloads, beacons.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ISO_UTC, START, open, variants } from "./harness.mjs";

const uuids = (request) => request.body.events.map((event) => event.uuid);
const readBlob = (window, blob) =>
  new Promise((resolve, reject) => {
    const reader = new window.FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = reject;
    reader.readAsText(blob);
  });

for (const [variant, code] of variants) {
  describe(`transport (${variant})`, () => {
    test("POSTs a text/plain body with api_key, events, sent_at and retry, keepalive, no custom headers", async () => {
      const page = await open(code, { attrs: { "data-project": "proj_abc123" } });
      page.now += 2000;
      page.window.tracker.flush();
      assert.equal(page.requests.length, 1);
      const [request] = page.requests;
      assert.equal(request.via, "fetch");
      assert.equal(request.url, "https://cdn.pulse.test/api/v1/events/ingest");
      assert.equal(request.init.method, "POST");
      assert.equal(request.init.keepalive, true);
      assert.equal(request.init.headers, undefined, "no headers: no CORS preflight");
      assert.equal(request.init.credentials, undefined);
      assert.ok(request.blob instanceof page.window.Blob);
      assert.equal(request.blob.type, "text/plain", "the Content-Type of the request");
      const text = await readBlob(page.window, request.blob);
      assert.equal(text, request.text);
      assert.equal(request.blob.size, Buffer.byteLength(text));
      const body = JSON.parse(text);
      assert.deepEqual(Object.keys(body).sort(), ["api_key", "events", "retry", "sent_at"]);
      assert.equal(body.retry, 0, "a first try");
      assert.equal(body.api_key, "proj_abc123");
      assert.match(body.sent_at, ISO_UTC);
      assert.equal(body.sent_at, new Date(START + 2000).toISOString());
      assert.equal(body.events.length, 1);
    });

    test("the default endpoint is the script's origin; a relative src resolves against the page", async () => {
      const page = await open(code, { src: "/sdk/tracker.min.js", url: "https://www.shop.example/x/y" });
      page.window.tracker.flush();
      assert.equal(page.requests[0].url, "https://www.shop.example/api/v1/events/ingest");
    });

    test("data-api overrides the ingest URL", async () => {
      const page = await open(code, { attrs: { "data-api": "https://ingest.example.net/custom/ingest" } });
      page.window.tracker.flush();
      assert.equal(page.requests[0].url, "https://ingest.example.net/custom/ingest");
      page.hide();
      page.window.tracker.event("x");
      page.hide();
      assert.equal(page.requests.at(-1).via, "beacon");
      assert.equal(page.requests.at(-1).url, "https://ingest.example.net/custom/ingest");
    });

    test("a 2xx answer removes the batch from sessionStorage", async () => {
      const page = await open(code, { statuses: ["hang", 202] });
      page.window.tracker.flush();
      assert.equal(page.pendingStored().length, 1, "in flight: kept");
      page.window.tracker.event("acknowledged");
      page.window.tracker.flush();
      await page.advance(0);
      assert.deepEqual(
        page.pendingStored().map((event) => event.event),
        ["page_view"],
        "only the unanswered batch is left",
      );
    });

    test("retries a 503 twice with backoff, then delivers once with the same uuids", async () => {
      const page = await open(code, { statuses: [503, 503, 202] });
      page.window.Math.random = () => 0.5; // jitter: half of the 1 s range
      page.window.tracker.event("buy", { total: 10 });
      page.window.tracker.flush();
      assert.equal(page.requests.length, 1);
      const first = page.requests[0];
      await page.advance(1499);
      assert.equal(page.requests.length, 1, "first retry after 1 s + jitter");
      await page.advance(1);
      assert.equal(page.requests.length, 2);
      await page.advance(2499);
      assert.equal(page.requests.length, 2, "second retry after 2 s + jitter");
      await page.advance(1);
      assert.equal(page.requests.length, 3);
      for (const request of page.requests) {
        assert.deepEqual(uuids(request), uuids(first));
        assert.deepEqual(request.body.events, first.body.events, "the same events, unchanged");
      }
      assert.notEqual(page.requests[2].body.sent_at, first.body.sent_at, "sent_at is the time of the attempt");
      assert.deepEqual(
        page.requests.map((request) => request.body.retry),
        [0, 1, 2],
        "each resend says it is one, so the API looks its uuids up",
      );
      assert.deepEqual(page.pendingStored(), []);
      await page.advance(60_000);
      assert.equal(page.requests.length, 3, "delivered once: no more attempts");
    });

    test("network failures and 429 are retried too", async () => {
      const page = await open(code, { statuses: ["error", 429, 200] });
      page.window.tracker.flush();
      await page.advance(10_000);
      assert.equal(page.requests.length, 3);
      assert.deepEqual(uuids(page.requests[2]), uuids(page.requests[0]));
      assert.deepEqual(page.pendingStored(), []);
    });

    test("gives up after 3 attempts in total and drops the batch", async () => {
      const page = await open(code, { statuses: [500, 502, 503, 504] });
      page.window.tracker.flush();
      await page.advance(60_000);
      assert.equal(page.requests.length, 3);
      assert.deepEqual(page.pendingStored(), []);
    });

    test("never retries a 400 (or other 4xx): the batch is dropped", async () => {
      for (const status of [400, 401, 403, 404, 413, 422]) {
        const page = await open(code, { statuses: [status] });
        page.window.tracker.flush();
        await page.advance(60_000);
        assert.equal(page.requests.length, 1, `status ${status}`);
        assert.deepEqual(page.pendingStored(), [], `status ${status}`);
      }
    });

    test("retry delays are jittered", async () => {
      const delays = new Set();
      for (let i = 0; i < 5; i++) {
        const page = await open(code, { statuses: [503] });
        page.window.tracker.flush();
        await page.advance(0);
        const [timer] = [...page.timers.values()];
        delays.add(timer.at - page.now);
      }
      assert.ok(delays.size > 1, `delays vary: ${[...delays]}`);
      for (const delay of delays) assert.ok(delay >= 1000 && delay < 2000, `${delay}`);
    });

    test("unacknowledged events survive a reload and are resent with the same uuids", async () => {
      const page = await open(code, { statuses: [503] });
      page.window.tracker.event("checkout", { step: 2 });
      page.window.tracker.flush(); // fails, a retry is scheduled
      await page.advance(0);
      page.window.tracker.event("queued_not_sent");
      const lost = page.pendingStored();
      assert.deepEqual(lost.map((e) => e.event), ["page_view", "checkout", "queued_not_sent"]);
      page.timers.clear(); // the retry timer dies with the page

      const next = await page.reload({ statuses: [202] });
      assert.equal(next.requests.length, 1, "resent at once on load");
      assert.deepEqual(next.requests[0].body.events, lost, "same events, same uuids");
      await next.advance(2000);
      assert.deepEqual(next.names(), ["page_view", "checkout", "queued_not_sent", "page_view"]);
      assert.deepEqual(next.pendingStored(), []);

      const third = await next.reload();
      await third.advance(2000);
      assert.deepEqual(third.names(), ["page_view"], "acknowledged events are not sent again");
    });

    test("events whose request was in flight during unload are resent (the server dedups by uuid)", async () => {
      const page = await open(code, { statuses: ["hang"] });
      page.window.tracker.flush();
      const next = await page.reload();
      assert.deepEqual(uuids(next.requests[0]), uuids(page.requests[0]));
    });

    test("pagehide sends the queue with navigator.sendBeacon as text/plain", async () => {
      const page = await open(code);
      page.window.tracker.event("last_click");
      page.window.dispatchEvent(new page.window.Event("pagehide"));
      assert.equal(page.requests.length, 1);
      const [beacon] = page.requests;
      assert.equal(beacon.via, "beacon");
      assert.equal(beacon.url, "https://cdn.pulse.test/api/v1/events/ingest");
      assert.equal(beacon.blob.type, "text/plain");
      assert.equal(beacon.body.api_key, "proj_test");
      assert.deepEqual(page.names(), ["page_view", "last_click"]);
      assert.deepEqual(page.pendingStored(), [], "handed to the browser");
      await page.advance(5000);
      assert.equal(page.requests.length, 1, "the batch timer was cancelled");
    });

    test("visibilitychange to hidden sends a beacon; to visible it does not", async () => {
      const page = await open(code);
      page.hidden = false;
      page.window.document.dispatchEvent(new page.window.Event("visibilitychange"));
      assert.equal(page.requests.length, 0);
      page.hide();
      assert.equal(page.requests.length, 1);
      assert.equal(page.requests[0].via, "beacon");
      page.hide();
      assert.equal(page.requests.length, 1, "nothing queued: nothing sent");
    });

    test("falls back to fetch keepalive when sendBeacon refuses or is missing", async () => {
      for (const beacon of [false, null]) {
        const page = await open(code, { beacon, statuses: ["hang"] });
        page.window.dispatchEvent(new page.window.Event("pagehide"));
        assert.equal(page.requests.length, 1);
        assert.equal(page.requests[0].via, "fetch");
        assert.equal(page.requests[0].init.keepalive, true);
        assert.equal(page.pendingStored().length, 1, "unconfirmed: kept for the next page");
      }
    });

    test("batches larger than the 64 KB keepalive limit are split; oversized events are dropped", async () => {
      const page = await open(code);
      const { tracker } = page.window;
      const big = "x".repeat(18_000);
      tracker.event("too_big", { blob: "y".repeat(70_000) });
      tracker.event("unicode", { text: "é".repeat(12_000) }); // 12,000 characters, 24,000 bytes
      for (let i = 0; i < 8; i++) tracker.event("big" + i, { big });
      // at 60,000 bytes a request: [page_view, unicode, big0] 43 KB (61 KB with big1),
      // [big1, big2, big3] 55 KB, [big4, big5, big6] 55 KB, [big7]
      assert.equal(page.requests.length, 4);
      for (const request of page.requests) assert.ok(request.blob.size < 64 * 1024, `${request.blob.size}`);
      assert.deepEqual(page.requests.map((request) => request.body.events.length), [3, 3, 3, 1]);
      assert.deepEqual(page.names(), ["page_view", "unicode", ...Array.from({ length: 8 }, (_, i) => "big" + i)]);
      assert.ok(!page.names().includes("too_big"));
    });
  });
}
