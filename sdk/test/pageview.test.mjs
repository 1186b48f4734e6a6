// Automatic page views: on load and on SPA navigation.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ISO_UTC, START, UUID_V4, open, variants } from "./harness.mjs";

for (const [variant, code] of variants) {
  describe(`page views (${variant})`, () => {
    test("a page_view with path, title, referrer, screen, language and UTM tags is sent on load", async () => {
      const page = await open(code, {
        url: "https://shop.example/products/shoes?utm_source=news&utm_medium=email&utm_campaign=spring&utm_term=red+shoes&utm_content=hero&utm_other=x&color=red",
        title: "Shoes | Shop",
        referrer: "https://search.example/?q=shoes",
      });
      assert.equal(page.requests.length, 0, "batched, not sent at once");
      await page.advance(2000);
      assert.equal(page.requests.length, 1);
      const [view] = page.events();
      assert.equal(view.event, "page_view");
      assert.deepEqual(view.properties, {
        path: "/products/shoes",
        title: "Shoes | Shop",
        referrer: "https://search.example/?q=shoes",
        screen: "1920x1080",
        language: "en-US",
        utm_source: "news",
        utm_medium: "email",
        utm_campaign: "spring",
        utm_term: "red shoes",
        utm_content: "hero",
      });
      assert.equal(view.page_url, page.window.location.href);
      assert.equal(view.referrer, "https://search.example/?q=shoes");
      assert.match(view.uuid, UUID_V4);
      assert.match(view.timestamp, ISO_UTC);
      assert.equal(view.timestamp, new Date(START).toISOString());
    });

    test("no UTM properties when the URL has none, empty referrer on a direct visit", async () => {
      const page = await open(code, { url: "https://shop.example/about" });
      await page.advance(2000);
      const [view] = page.events();
      assert.deepEqual(Object.keys(view.properties).sort(), ["language", "path", "referrer", "screen", "title"]);
      assert.equal(view.properties.referrer, "");
      assert.equal(view.properties.path, "/about");
    });

    test("history.pushState sends a page_view only when the URL changed", async () => {
      const page = await open(code, { url: "https://shop.example/", referrer: "https://ref.example/" });
      const { history, document } = page.window;
      document.title = "Cart";
      history.pushState({}, "", "/cart?utm_campaign=retarget");
      history.pushState({ same: true }, "", "/cart?utm_campaign=retarget"); // same URL: ignored
      history.pushState({}, "", "https://shop.example/cart?utm_campaign=retarget"); // still the same
      await page.advance(2000);
      const views = page.events().filter((event) => event.event === "page_view");
      assert.equal(views.length, 2);
      assert.deepEqual(views[1].properties, {
        path: "/cart",
        title: "Cart",
        referrer: "https://shop.example/",
        screen: "1920x1080",
        language: "en-US",
        utm_campaign: "retarget",
      });
      assert.equal(views[1].page_url, "https://shop.example/cart?utm_campaign=retarget");
      assert.equal(views[1].referrer, "https://shop.example/", "events after an SPA view carry the previous URL");
    });

    test("replaceState is tracked too, and pushState/replaceState still works for the page", async () => {
      const page = await open(code, { url: "https://shop.example/a" });
      const { history, location } = page.window;
      const result = history.pushState({ n: 1 }, "", "/b");
      assert.equal(result, undefined);
      assert.equal(location.pathname, "/b");
      assert.deepEqual(history.state, { n: 1 });
      history.replaceState({ n: 2 }, "", "/c");
      history.replaceState({ n: 3 }, "", "/c"); // unchanged
      assert.deepEqual(history.state, { n: 3 });
      history.replaceState(null, "", "/b"); // tracked: the URL changed
      page.window.dispatchEvent(new page.window.PopStateEvent("popstate")); // no change: ignored
      await page.advance(2000);
      const paths = page.events().map((event) => event.properties.path);
      assert.deepEqual(paths, ["/a", "/b", "/c", "/b"]);
      const referrers = page.events().map((event) => event.properties.referrer);
      assert.deepEqual(referrers, ["", "https://shop.example/a", "https://shop.example/b", "https://shop.example/c"]);
    });

    test("popstate after a URL change made without the History API sends a page_view", async () => {
      const page = await open(code, { url: "https://shop.example/a" });
      page.window.location.hash = "#reviews"; // jsdom fires hashchange/popstate asynchronously
      await page.advance(10);
      page.window.dispatchEvent(new page.window.PopStateEvent("popstate"));
      await page.advance(2000);
      assert.deepEqual(
        page.events().map((event) => event.page_url),
        ["https://shop.example/a", "https://shop.example/a#reviews"],
      );
    });
  });
}
