// When the tracker must stay silent: Do Not Track, opt-out, automated browsers, no project key.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { STUB, open, variants } from "./harness.mjs";

const setNavigator = (name, value) => (window) =>
  Object.defineProperty(window.navigator, name, { configurable: true, get: () => value });

/** Uses every API method and every listener; asserts that nothing was sent or stored. */
async function assertSilent(page) {
  const { window } = page;
  const { tracker } = window;
  for (const method of ["event", "identify", "reset", "flush"]) assert.equal(typeof tracker[method], "function");
  assert.doesNotThrow(() => {
    tracker.event("click", { a: 1 });
    tracker.identify("user_1", { plan: "pro" });
    tracker.reset();
    tracker.flush();
    window.history.pushState({}, "", "/elsewhere");
    window.dispatchEvent(new window.Event("pagehide"));
    page.hide();
  });
  await page.advance(60_000);
  assert.equal(page.requests.length, 0, "no request");
  assert.deepEqual(Object.keys(page.storage("session")), [], "nothing in sessionStorage");
  assert.equal(window.localStorage.getItem("pulse_id"), null, "no id in localStorage");
  assert.equal(window.location.pathname, "/elsewhere", "history still works");
}

for (const [variant, code] of variants) {
  describe(`privacy (${variant})`, () => {
    test("navigator.doNotTrack = '1' disables tracking", async () => {
      await assertSilent(await open(code, { before: setNavigator("doNotTrack", "1") }));
    });

    test("window.doNotTrack = '1' disables tracking", async () => {
      await assertSilent(
        await open(code, {
          before(window) {
            window.doNotTrack = "1";
          },
        }),
      );
    });

    test("doNotTrack '0' or unset does not", async () => {
      const page = await open(code, { before: setNavigator("doNotTrack", "0") });
      await page.advance(2000);
      assert.equal(page.requests.length, 1);
    });

    test("localStorage pulse_opt_out = '1' disables tracking", async () => {
      await assertSilent(await open(code, { local: { pulse_opt_out: "1" } }));
    });

    test("automated browsers (navigator.webdriver) are skipped", async () => {
      await assertSilent(await open(code, { before: setNavigator("webdriver", true) }));
    });

    test("data-allow-automation lets automated browsers through", async () => {
      const page = await open(code, {
        before: setNavigator("webdriver", true),
        attrs: { "data-allow-automation": true },
      });
      page.window.tracker.event("from_playwright");
      page.window.tracker.flush();
      assert.deepEqual(page.names(), ["page_view", "from_playwright"]);
    });

    test("without data-project nothing is sent", async () => {
      await assertSilent(await open(code, { attrs: { "data-project": undefined } }));
    });

    test("a disabled tracker drops the stub's queue without errors", async () => {
      const page = await open(code, {
        local: { pulse_opt_out: "1" },
        before(window) {
          window.eval(STUB);
          window.eval('tracker.event("early"); tracker.identify("u1");');
        },
      });
      await assertSilent(page);
    });
  });
}
