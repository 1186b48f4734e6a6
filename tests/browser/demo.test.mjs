// The demo shop (demo/index.html, served by the local platform with the demo project's key) in
// headless Chromium, with the real tracker (sdk/dist/tracker.min.js), the real ingest path
// (static site → local API Gateway → ingest Lambda → Kinesis → poller → processor) and the
// rows checked in Postgres.
//
// Every test opens its own browser context, so it has its own anonymous distinct_id and its own
// session, and it looks only at rows of the sessions it created (the served page always carries
// the demo project's key, which wins over ?key=, so all tests share the demo project).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  logBeacons,
  pollRows,
  recordBatches,
  startStack,
  trackerIds,
  waitInPage,
} from "./harness.mjs";

const SENTINEL = "test_sentinel";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let stack;

before(async () => {
  stack = await startStack();
});

after(async () => {
  if (!stack) return;
  const exit = await stack.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, "the platform stops cleanly on SIGINT");
});

/** A fresh context and page on the demo shop; resolves once the tracker has replaced its stub. */
async function openDemo(path = "/demo/", { setup } = {}) {
  const context = await stack.browser.newContext();
  const page = await context.newPage();
  const batches = setup ? await setup(page, context) : await recordBatches(page);
  await page.goto(stack.siteUrl + path);
  await waitInPage(page, () => window.tracker && !window.tracker.q && sessionStorage.pulse_session);
  assert.equal(
    await page.locator("#key-status").textContent(),
    `project ${stack.demo.api_key}`,
    "the served page carries the demo project's key",
  );
  return { context, page, batches };
}

const acknowledged = (page) =>
  waitInPage(page, () => (sessionStorage.getItem("pulse_queue") || "[]") === "[]");

/**
 * Wait until every event the page recorded in its current session is in Postgres. Once the
 * page's queue is acknowledged, a sentinel event is sent: the stream keeps a session's records in
 * order (partition key project:session, one poller per shard), so when the sentinel is in
 * Postgres, every earlier event of the session is too, and exact counts are safe.
 */
async function settle(page) {
  await page.evaluate(() => tracker.flush());
  await acknowledged(page);
  const uuid = await page.evaluate((name) => {
    tracker.event(name);
    const queue = JSON.parse(sessionStorage.getItem("pulse_queue"));
    tracker.flush();
    return queue[queue.length - 1].uuid;
  }, SENTINEL);
  await acknowledged(page);
  await pollRows(stack.db, "SELECT 1 FROM events WHERE project_id = $1 AND id = $2", [stack.demo.project_id, uuid], (rows) => rows.length === 1);
}

/** This project's rows of the given sessions, sentinels left out, oldest first. */
async function sessionRows(...sessionIds) {
  const { rows } = await stack.db.query(
    `SELECT id::text, event, distinct_id, session_id, properties, page_url, referrer, user_agent,
            ip_hash, browser, os, device, country, "timestamp"
       FROM events
      WHERE project_id = $1 AND session_id = ANY($2) AND event <> $3
      ORDER BY "timestamp", received_at`,
    [stack.demo.project_id, sessionIds, SENTINEL],
  );
  return rows;
}

const sentUuids = (batches) =>
  [...new Set(batches.flatMap((b) => b.events.filter((e) => e.event !== SENTINEL).map((e) => e.uuid)))].sort();

describe("demo shop → tracker → ingest → Postgres", () => {
  test("a page view on load arrives with path, title, UTM and enrichment", async () => {
    const started = Date.now();
    const { context, page, batches } = await openDemo(
      "/demo/?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
    );
    try {
      const ids = await trackerIds(page);
      assert.match(ids.distinctId, /^anon_/);
      assert.match(ids.sessionId, UUID);
      await settle(page);
      const rows = await sessionRows(ids.sessionId);
      assert.equal(rows.length, 1, "exactly one event: the page view");
      const [view] = rows;
      assert.equal(view.event, "page_view");
      assert.deepEqual(
        { ...view.properties, screen: undefined, language: undefined },
        {
          path: "/demo/",
          title: "Shop · Pulse demo",
          referrer: "",
          utm_source: "newsletter",
          utm_medium: "email",
          utm_campaign: "spring",
          screen: undefined,
          language: undefined,
        },
      );
      assert.match(view.properties.screen, /^\d+x\d+$/);
      assert.equal(view.properties.language, await page.evaluate(() => navigator.language));
      assert.equal(view.distinct_id, ids.distinctId);
      assert.equal(view.page_url, page.url());
      // The User-Agent itself is not kept (docs/security.md); what the visit is, from that
      // User-Agent (the harness's Chrome on Linux) and the loopback address, which no country has.
      assert.equal(view.user_agent, null, "the User-Agent is not stored");
      assert.deepEqual(
        { browser: view.browser, os: view.os, device: view.device, country: view.country },
        { browser: "Chrome", os: "Linux", device: "desktop", country: null },
      );
      assert.match(view.ip_hash, /^[0-9a-f]{32}$/);
      const at = view.timestamp.getTime();
      assert.ok(at >= started - 5_000 && at <= Date.now() + 5_000, `timestamp ${view.timestamp} is now`);
      assert.deepEqual([view.id], sentUuids(batches), "stored under the uuid the page sent");
    } finally {
      await context.close();
    }
  });

  test("SPA navigation: a page_view per URL change, none when the URL stays the same", async () => {
    const { context, page, batches } = await openDemo();
    try {
      const shopUrl = page.url();
      const { sessionId } = await trackerIds(page);
      await page.click('nav a[data-route="pricing"]');
      await page.locator("#view-pricing").waitFor({ state: "visible" });
      assert.equal(new URL(page.url()).pathname, "/demo/pricing");
      // the same URL again: pushState and replaceState without a change → no page view
      await page.click('nav a[data-route="pricing"]');
      await page.evaluate(() => history.replaceState(history.state, "", location.href));
      // back once: the previous history entry has the same URL (the second click pushed it) →
      // popstate without a change, no page view; back again: a page view of the shop
      await page.goBack();
      assert.equal(new URL(page.url()).pathname, "/demo/pricing");
      await page.goBack();
      await page.locator("#view-shop").waitFor({ state: "visible" });
      await settle(page);

      const rows = await sessionRows(sessionId);
      assert.deepEqual(
        rows.map((r) => [r.event, r.properties.path, r.properties.title]),
        [
          ["page_view", "/demo/", "Shop · Pulse demo"],
          ["page_view", "/demo/pricing", "Pricing · Pulse demo"],
          ["page_view", "/demo/", "Shop · Pulse demo"],
        ],
      );
      assert.equal(rows[1].page_url, stack.siteUrl + "/demo/pricing");
      assert.equal(rows[1].properties.referrer, shopUrl, "an SPA view's referrer is the previous URL");
      assert.equal(rows[2].properties.referrer, stack.siteUrl + "/demo/pricing");
      assert.deepEqual(rows.map((r) => r.id).sort(), sentUuids(batches));
    } finally {
      await context.close();
    }
  });

  test("custom events from button clicks arrive with their properties", async () => {
    const { context, page, batches } = await openDemo();
    try {
      const { sessionId, distinctId } = await trackerIds(page);
      await page.click('button[data-product="keyboard"]');
      await page.click('button[data-product="mug"]');
      await page.click("#purchase");
      await page.click("#click");
      await settle(page);

      const rows = await sessionRows(sessionId);
      assert.deepEqual(
        rows.map((r) => r.event),
        ["page_view", "add_to_cart", "add_to_cart", "purchase", "button_click"],
      );
      assert.deepEqual(rows[1].properties, { product: "keyboard", price: 129, currency: "USD" });
      assert.deepEqual(rows[2].properties, { product: "mug", price: 15, currency: "USD" });
      const { order_id: orderId, ...purchase } = rows[3].properties;
      assert.match(orderId, /^order_[0-9a-z]+$/);
      assert.deepEqual(purchase, { revenue: 144, currency: "USD", items: ["keyboard", "mug"] });
      assert.deepEqual(rows[4].properties, { button_id: "just_a_click" });
      assert.ok(rows.every((r) => r.distinct_id === distinctId));
      assert.deepEqual(rows.map((r) => r.id).sort(), sentUuids(batches));
    } finally {
      await context.close();
    }
  });

  test("identify: later events carry user_42, on every page; reset: new anonymous id and session", async () => {
    const { context, page } = await openDemo();
    try {
      const first = await trackerIds(page);
      await page.click("#identify");
      await page.locator("#who").filter({ hasText: "distinct_id: user_42" }).waitFor();
      await page.click("#click");
      await settle(page);
      await page.reload(); // the next page of the tab: same session, still identified
      await waitInPage(page, () => window.tracker && !window.tracker.q);
      await settle(page);

      const identified = await sessionRows(first.sessionId);
      assert.deepEqual(
        identified.map((r) => [r.event, r.distinct_id]),
        [
          ["page_view", first.distinctId],
          ["$identify", "user_42"],
          ["button_click", "user_42"],
          ["page_view", "user_42"],
        ],
      );
      assert.deepEqual(identified[1].properties, { plan: "pro", company: "Acme" });

      await page.click("#reset");
      await page.click("#click");
      const second = await trackerIds(page);
      assert.match(second.distinctId, /^anon_/);
      assert.notEqual(second.distinctId, first.distinctId, "reset: a new anonymous id");
      assert.match(second.sessionId, UUID);
      assert.notEqual(second.sessionId, first.sessionId, "reset: a new session");
      await settle(page);

      const after = await sessionRows(second.sessionId);
      assert.deepEqual(
        after.map((r) => [r.event, r.distinct_id]),
        [["button_click", second.distinctId]],
      );
      assert.equal((await sessionRows(first.sessionId)).length, 4, "nothing more in the first session");
    } finally {
      await context.close();
    }
  });

  test("leaving the page: queued events go out with sendBeacon and arrive", async () => {
    const { context, page } = await openDemo("/demo/", {
      setup: async (_page, ctx) => {
        await logBeacons(ctx);
        return [];
      },
    });
    try {
      await page.click("#flush");
      await acknowledged(page); // the page view is delivered; the queue is empty
      await page.click("#click");
      const { sessionId, queue } = await trackerIds(page);
      assert.deepEqual(queue.map((e) => e.event), ["button_click"], "queued, not sent yet (2 s timer)");
      await page.goto("about:blank"); // pagehide; no page of the site loads after it to resend

      const rows = await pollRows(
        stack.db,
        "SELECT id::text, event, session_id FROM events WHERE project_id = $1 AND id = $2",
        [stack.demo.project_id, queue[0].uuid],
        (r) => r.length === 1,
      );
      assert.equal(rows[0].event, "button_click");
      assert.equal(rows[0].session_id, sessionId);

      // read the beacon log from a page of the same origin that does not run the tracker
      await page.goto(stack.siteUrl + "/sdk/tracker.min.js");
      const beacons = await page.evaluate(() => JSON.parse(localStorage.getItem("test_beacons") || "[]"));
      assert.deepEqual(beacons.map((b) => [b.url, b.ok]), [[stack.ingestUrl, true]], "one beacon, accepted");
      assert.equal((await sessionRows(sessionId)).length, 2, "page view + click, nothing twice");
    } finally {
      await context.close();
    }
  });

  test("visibility hidden: queued events go out with sendBeacon while the page stays", async () => {
    const { context, page } = await openDemo("/demo/", {
      setup: async (_page, ctx) => {
        await logBeacons(ctx);
        return [];
      },
    });
    try {
      await page.click("#flush");
      await acknowledged(page); // the page view is delivered; the queue is empty
      await page.click("#click");
      const { sessionId, queue } = await trackerIds(page);
      assert.deepEqual(queue.map((e) => e.event), ["button_click"], "queued, not sent yet (2 s timer)");
      // Headless tabs never become hidden, so the switch to another tab is simulated.
      const left = await page.evaluate(() => {
        Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
        Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
        document.dispatchEvent(new Event("visibilitychange"));
        return {
          queue: JSON.parse(sessionStorage.getItem("pulse_queue")),
          beacons: JSON.parse(localStorage.getItem("test_beacons") || "[]"),
        };
      });
      assert.deepEqual(left.queue, [], "a beacon handed over counts as acknowledged");
      assert.deepEqual(left.beacons.map((b) => [b.url, b.ok]), [[stack.ingestUrl, true]]);
      const rows = await pollRows(
        stack.db,
        "SELECT id::text, event, session_id FROM events WHERE project_id = $1 AND id = $2",
        [stack.demo.project_id, queue[0].uuid],
        (r) => r.length === 1,
      );
      assert.equal(rows[0].session_id, sessionId);
      await settle(page);
      assert.deepEqual((await sessionRows(sessionId)).map((r) => r.event), ["page_view", "button_click"]);
    } finally {
      await context.close();
    }
  });

  test("retries: two 503s, then the batch is delivered, each event exactly once", async () => {
    const unavailable = { status: 503, contentType: "application/json", body: '{"message":"Service Unavailable"}' };
    const attempts = new Map(); // batch (its sorted uuids) → attempts seen
    const { context, page, batches } = await openDemo("/demo/", {
      setup: (p) =>
        recordBatches(p, async (route, _n, entry) => {
          if (entry.events.some((e) => e.event === SENTINEL)) return false;
          entry.key = entry.events.map((e) => e.uuid).sort().join(",");
          const attempt = (attempts.get(entry.key) || 0) + 1;
          attempts.set(entry.key, attempt);
          if (attempt === 1) {
            entry.status = 503; // lost before the platform: nothing stored
            await route.fulfill(unavailable);
            return true;
          }
          if (attempt === 2) {
            // reaches the platform (stored), but its answer is lost: the page sees a 503
            entry.forwarded = (await route.fetch()).status();
            entry.status = 503;
            await route.fulfill(unavailable);
            return true;
          }
          return false; // the third attempt goes through
        }),
    });
    try {
      await page.click("#click");
      const { sessionId, queue } = await trackerIds(page);
      const uuids = queue.map((e) => e.uuid).sort();
      assert.deepEqual(queue.map((e) => e.event), ["page_view", "button_click"]);
      await page.click("#flush");
      // retried after 1-2 s, then after 2-3 s
      await waitInPage(page, () => sessionStorage.getItem("pulse_queue") === "[]", undefined, 15_000);
      const tried = batches.filter((b) => b.key);
      assert.ok(tried.length >= 3, `${tried.length} requests`);
      for (const key of new Set(tried.map((b) => b.key))) {
        const same = tried.filter((b) => b.key === key);
        assert.deepEqual(same.map((b) => b.status), [503, 503, 202], "three attempts, same uuids");
        assert.equal(same[1].forwarded, 202);
        assert.equal(new Set(same.map((b) => b.sentAt)).size, 3, "a fresh sent_at on every attempt");
      }
      assert.deepEqual([...new Set(tried.flatMap((b) => b.events.map((e) => e.uuid)))].sort(), uuids);
      await settle(page);

      const { rows } = await stack.db.query(
        "SELECT id::text, count(*)::int AS n FROM events WHERE project_id = $1 AND id = ANY($2) GROUP BY id ORDER BY id",
        [stack.demo.project_id, uuids],
      );
      assert.deepEqual(rows, uuids.map((id) => ({ id, n: 1 })), "each uuid stored once");
      assert.deepEqual(
        (await sessionRows(sessionId)).map((r) => r.event),
        ["page_view", "button_click"],
        "nothing else in the session",
      );
    } finally {
      await context.close();
    }
  });
});
