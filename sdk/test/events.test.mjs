// The public API: event, identify, reset, flush; ids, sessions, batching and the pre-load stub.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { ISO_UTC, START, STUB, UUID_V4, open, variants } from "./harness.mjs";

const MINUTE = 60_000;

for (const [variant, code] of variants) {
  describe(`events (${variant})`, () => {
    test("an event has the documented fields, with an anonymous id kept in localStorage", async () => {
      const page = await open(code, { url: "https://shop.example/p?x=1", referrer: "https://ref.example/" });
      page.now += 5000;
      page.window.tracker.event("button_click", { button_id: "signup", n: 2 });
      page.window.tracker.flush();
      const [view, click] = page.events();
      assert.deepEqual(Object.keys(click).sort(), [
        "distinct_id",
        "event",
        "page_url",
        "properties",
        "referrer",
        "session_id",
        "timestamp",
        "uuid",
      ]);
      assert.equal(click.event, "button_click");
      assert.deepEqual(click.properties, { button_id: "signup", n: 2 });
      assert.match(click.distinct_id, /^anon_[0-9a-f-]{36}$/);
      assert.equal(click.distinct_id, view.distinct_id);
      assert.equal(page.window.localStorage.getItem("pulse_id"), click.distinct_id);
      assert.match(click.session_id, UUID_V4);
      assert.equal(click.session_id, view.session_id);
      assert.equal(click.page_url, "https://shop.example/p?x=1");
      assert.equal(click.referrer, "https://ref.example/");
      assert.match(click.timestamp, ISO_UTC);
      assert.equal(click.timestamp, new Date(START + 5000).toISOString());
      assert.match(click.uuid, UUID_V4);
      assert.notEqual(click.uuid, view.uuid);
      assert.equal(page.window.document.cookie, "", "no cookies at all");
    });

    test("properties are copied when the event is recorded; missing properties become {}", async () => {
      const page = await open(code);
      const props = { step: 1 };
      page.window.tracker.event("wizard", props);
      props.step = 2;
      page.window.tracker.event("no_props");
      page.window.tracker.flush();
      assert.deepEqual(page.events()[1].properties, { step: 1 });
      assert.deepEqual(page.events()[2].properties, {});
    });

    test("the anonymous id survives a reload; a new page keeps using it", async () => {
      const first = await open(code);
      await first.advance(2000);
      const second = await first.reload();
      await second.advance(2000);
      assert.equal(second.events()[0].distinct_id, first.events()[0].distinct_id);
      assert.equal(second.events()[0].session_id, first.events()[0].session_id, "same tab: same session");
    });

    test("10 queued events are sent at once, fewer wait for the 2 s timer", async () => {
      const page = await open(code);
      for (let i = 1; i <= 8; i++) page.window.tracker.event("e" + i);
      assert.equal(page.requests.length, 0, "9 events with the page_view: still waiting");
      page.window.tracker.event("e9");
      assert.equal(page.requests.length, 1, "the 10th event sends the batch immediately");
      assert.equal(page.requests[0].body.events.length, 10);
      assert.deepEqual(page.names(), ["page_view", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"]);

      page.window.tracker.event("late1");
      page.window.tracker.event("late2");
      await page.advance(1999);
      assert.equal(page.requests.length, 1, "not before 2 s");
      await page.advance(1);
      assert.equal(page.requests.length, 2);
      assert.deepEqual(page.requests[1].body.events.map((e) => e.event), ["late1", "late2"]);
      await page.advance(10_000);
      assert.equal(page.requests.length, 2, "nothing more to send");
    });

    test("flush() sends what is queued now", async () => {
      const page = await open(code);
      page.window.tracker.event("now");
      page.window.tracker.flush();
      assert.equal(page.requests.length, 1);
      assert.deepEqual(page.names(), ["page_view", "now"]);
      page.window.tracker.flush(); // nothing queued: no empty request
      await page.advance(5000);
      assert.equal(page.requests.length, 1);
    });

    test("identify sends $identify with the traits and later events carry the id", async () => {
      const page = await open(code);
      const { tracker, localStorage } = page.window;
      tracker.event("before");
      tracker.identify("user_42", { plan: "pro", company: "Acme" });
      tracker.event("after");
      tracker.flush();
      const [view, before, identify, after] = page.events();
      assert.match(before.distinct_id, /^anon_/);
      assert.equal(view.distinct_id, before.distinct_id);
      assert.equal(identify.event, "$identify");
      assert.deepEqual(identify.properties, { plan: "pro", company: "Acme" });
      assert.equal(identify.distinct_id, "user_42");
      assert.equal(after.distinct_id, "user_42");
      assert.equal(after.session_id, before.session_id, "identify keeps the session");
      assert.equal(localStorage.getItem("pulse_id"), "user_42");

      tracker.identify(42); // numbers become strings, traits default to {}
      tracker.flush();
      const last = page.events().at(-1);
      assert.equal(last.distinct_id, "42");
      assert.deepEqual(last.properties, {});

      await page.advance(0); // let the 202 answers arrive
      const next = await page.reload();
      await next.advance(2000);
      assert.deepEqual(next.names(), ["page_view"]);
      assert.equal(next.events()[0].distinct_id, "42", "the identity persists across page loads");
    });

    test("identify without an id does nothing", async () => {
      const page = await open(code);
      page.window.tracker.identify();
      page.window.tracker.identify(null, { a: 1 });
      page.window.tracker.identify("", { a: 1 });
      await page.advance(2000);
      assert.deepEqual(page.names(), ["page_view"]);
      assert.match(page.window.localStorage.getItem("pulse_id"), /^anon_/);
    });

    test("reset gives a new anonymous id and a new session", async () => {
      const page = await open(code);
      const { tracker } = page.window;
      tracker.identify("user_42");
      tracker.event("as_user");
      tracker.reset();
      tracker.event("after_reset");
      tracker.flush();
      const [view, , asUser, afterReset] = page.events();
      assert.equal(asUser.distinct_id, "user_42");
      assert.match(afterReset.distinct_id, /^anon_[0-9a-f-]{36}$/);
      assert.notEqual(afterReset.distinct_id, view.distinct_id, "not the old anonymous id either");
      assert.notEqual(afterReset.session_id, asUser.session_id);
      assert.match(afterReset.session_id, UUID_V4);
      assert.equal(page.window.localStorage.getItem("pulse_id"), afterReset.distinct_id);
      tracker.event("later");
      tracker.flush();
      assert.equal(page.events().at(-1).session_id, afterReset.session_id, "the new session goes on");
      assert.equal(page.events().at(-1).distinct_id, afterReset.distinct_id);
    });

    test("the session is renewed after 30 minutes without activity, not before", async () => {
      const page = await open(code);
      const { tracker } = page.window;
      await page.advance(29 * MINUTE);
      tracker.event("29_minutes_later");
      await page.advance(29 * MINUTE);
      tracker.event("another_29_minutes_later");
      await page.advance(30 * MINUTE + 1);
      tracker.event("after_30_idle_minutes");
      tracker.event("right_after");
      tracker.flush();
      const sessions = page.events().map((event) => event.session_id);
      assert.equal(sessions[1], sessions[0]);
      assert.equal(sessions[2], sessions[0], "activity every 29 minutes keeps the session alive");
      assert.notEqual(sessions[3], sessions[0]);
      assert.match(sessions[3], UUID_V4);
      assert.equal(sessions[4], sessions[3]);
      assert.equal(page.events()[3].distinct_id, page.events()[0].distinct_id, "same visitor");
      assert.equal(page.window.sessionStorage.getItem("pulse_session"), `${sessions[4]}|${page.now}`);
    });

    test("a new tab (empty sessionStorage) starts a new session for the same visitor", async () => {
      const first = await open(code);
      await first.advance(2000);
      const other = await open(code, { local: first.storage("local") });
      await other.advance(2000);
      assert.equal(other.events()[0].distinct_id, first.events()[0].distinct_id);
      assert.notEqual(other.events()[0].session_id, first.events()[0].session_id);
    });

    test("calls queued by the stub before the script loaded are replayed in order", async () => {
      const page = await open(code, {
        before(window) {
          window.eval(STUB);
          window.eval(`
            tracker.event("early_1", { a: 1 });
            tracker.identify("user_7", { plan: "free" });
            tracker.event("early_2");
            tracker.nope && tracker.nope();
          `);
          assert.equal(window.tracker.q.length, 3);
        },
      });
      assert.equal(page.window.tracker.q, undefined, "the stub is replaced by the real tracker");
      await page.advance(2000);
      assert.deepEqual(page.names(), ["page_view", "early_1", "$identify", "early_2"]);
      const [, early1, identify, early2] = page.events();
      assert.deepEqual(early1.properties, { a: 1 });
      assert.match(early1.distinct_id, /^anon_/);
      assert.deepEqual(identify.properties, { plan: "free" });
      assert.equal(early2.distinct_id, "user_7");
    });

    test("a malformed stub entry is skipped without stopping the tracker", async () => {
      const page = await open(code, {
        before(window) {
          window.tracker = { q: [["unknown", []], ["event", null], ["event", ["ok"]]] };
        },
      });
      await page.advance(2000);
      assert.deepEqual(page.names(), ["page_view", "ok"]);
    });

    test("the stub documented in README.md is the one tested here", () => {
      const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
      assert.ok(readme.includes(STUB), "README.md must contain the stub verbatim");
    });

    test("loading the script twice keeps one tracker (one page_view, history wrapped once)", async () => {
      const page = await open(code);
      const tracker = page.window.tracker;
      page.window.eval(code);
      assert.equal(page.window.tracker, tracker);
      page.window.history.pushState({}, "", "/next");
      await page.advance(2000);
      assert.deepEqual(page.names(), ["page_view", "page_view"]);
    });

    test("never throws into the page", async () => {
      const page = await open(code);
      const { tracker } = page.window;
      const circular = {};
      circular.self = circular;
      assert.doesNotThrow(() => {
        tracker.event("circular", circular);
        tracker.event({ toString: null, valueOf: null }); // cannot become a string
        tracker.event(Symbol("x"));
        tracker.identify({ toString: null, valueOf: null });
        tracker.flush.call(null);
        tracker.event.apply(undefined, []);
      });
      page.window.tracker.event("fine");
      await page.advance(2000);
      assert.deepEqual(page.names(), ["page_view", "undefined", "fine"]);
    });

    test("still works when storage is blocked (in-memory ids for the page)", async () => {
      const page = await open(code, {
        before(window) {
          const blocked = () => {
            throw new window.DOMException("The operation is insecure.", "SecurityError");
          };
          Object.defineProperty(window, "localStorage", { configurable: true, get: blocked });
          Object.defineProperty(window, "sessionStorage", { configurable: true, get: blocked });
        },
      });
      page.window.tracker.event("a");
      page.window.tracker.event("b");
      page.window.tracker.flush();
      const events = page.events();
      assert.deepEqual(events.map((e) => e.event), ["page_view", "a", "b"]);
      assert.match(events[0].distinct_id, /^anon_/);
      assert.equal(new Set(events.map((e) => e.distinct_id)).size, 1);
      assert.equal(new Set(events.map((e) => e.session_id)).size, 1);
    });

    test("keeps one id and one session when storage is full", async () => {
      const page = await open(code, {
        before(window) {
          const full = new Proxy(
            {},
            {
              set() {
                throw new window.DOMException("The quota has been exceeded.", "QuotaExceededError");
              },
            },
          );
          Object.defineProperty(window, "localStorage", { configurable: true, get: () => full });
          Object.defineProperty(window, "sessionStorage", { configurable: true, get: () => full });
        },
      });
      page.window.tracker.event("a");
      page.window.tracker.identify("user_9");
      page.window.tracker.event("b");
      page.window.tracker.flush();
      const events = page.events();
      assert.deepEqual(events.map((e) => e.event), ["page_view", "a", "$identify", "b"]);
      assert.equal(events[0].distinct_id, events[1].distinct_id);
      assert.equal(events[3].distinct_id, "user_9");
      assert.equal(new Set(events.map((e) => e.session_id)).size, 1);
    });

    test("uuids fall back to crypto.getRandomValues where crypto.randomUUID is missing", async () => {
      const page = await open(code, {
        before(window) {
          Object.defineProperty(window.crypto, "randomUUID", { configurable: true, value: undefined });
        },
      });
      for (let i = 0; i < 40; i++) page.window.tracker.event("e");
      await page.advance(2000);
      const ids = page.events().flatMap((event) => [event.uuid, event.session_id]);
      ids.push(page.events()[0].distinct_id.slice(5));
      for (const id of ids) assert.match(id, UUID_V4);
      assert.equal(new Set(page.events().map((e) => e.uuid)).size, 41);
    });
  });
}
