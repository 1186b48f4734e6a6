// The demo page, served by demo/dev-server.mjs and run by jsdom with its own scripts and the
// built tracker loaded over HTTP: the requests go to the dev server's fake ingest endpoint.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { JSDOM } from "jsdom";
import { createDemoServer } from "../../demo/dev-server.mjs";

const readBlob = (window, blob) =>
  new Promise((resolve, reject) => {
    const reader = new window.FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = reject;
    reader.readAsText(blob);
  });

async function waitFor(check, what) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

function startServer(options) {
  const server = createDemoServer({ ...options, log: (line) => server.lines.push(line) });
  server.lines = [];
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function openDemo(server, path) {
  const { port } = server.address();
  const contentTypes = [];
  const dom = await JSDOM.fromURL(`http://127.0.0.1:${port}${path}`, {
    runScripts: "dangerously",
    resources: "usable",
    beforeParse(window) {
      // jsdom has no fetch: forward the tracker's requests to the dev server with Node's fetch
      window.fetch = async (url, init) => {
        contentTypes.push(init.body.type);
        const response = await fetch(url, {
          method: init.method,
          body: await readBlob(window, init.body),
          headers: { "content-type": init.body.type },
        });
        return { status: response.status };
      };
    },
  });
  const { window } = dom;
  await new Promise((resolve) => window.addEventListener("load", resolve));
  await waitFor(() => window.tracker && !window.tracker.q, "the tracker to load");
  return { window, contentTypes, $: (selector) => window.document.querySelector(selector) };
}

describe("demo page", () => {
  let server;
  before(async () => {
    server = await startServer({ projectKey: undefined });
  });
  after(() => server.close());

  test("without a substituted key it takes ?key=, and every button sends its event", async () => {
    const { window, $, contentTypes } = await openDemo(server, "/demo/?key=proj_from_url");
    assert.equal($("#pulse-sdk").dataset.project, "proj_from_url");
    assert.equal($("#pulse-sdk").getAttribute("src"), "/sdk/tracker.min.js");
    assert.match($("#key-status").textContent, /proj_from_url/);

    $("[data-product=keyboard]").click();
    $("[data-product=mug]").click();
    $("#purchase").click();
    $("#click").click();
    $("#identify").click();
    $("[data-route=pricing]").click();
    assert.equal(window.location.pathname, "/demo/pricing");
    assert.equal(window.location.search, "?key=proj_from_url", "navigation keeps ?key=");
    assert.equal($("#view-pricing").hidden, false);
    assert.equal($("#view-shop").hidden, true);
    $("[data-signup=pro]").click();
    $("#reset").click();
    $("[data-route=shop]").click();
    $("#flush").click();

    await waitFor(() => server.lines.length >= 9, "the events at the fake ingest endpoint");
    const lines = server.lines.map((line) => line.split(" ").slice(0, 3));
    const names = lines.map(([, name]) => name);
    assert.deepEqual(names, [
      "page_view",
      "add_to_cart",
      "add_to_cart",
      "purchase",
      "button_click",
      "$identify",
      "page_view",
      "signup",
      "page_view",
    ]);
    assert.ok(lines.every(([key]) => key === "proj_from_url"));
    assert.equal(lines[6][2], "user_42", "events after identify carry the user id");
    assert.match(lines.at(-1)[2], /^anon_/, "events after reset are anonymous again");
    assert.ok(server.lines[3].includes('"revenue":144'), server.lines[3]);
    assert.ok(server.lines[6].includes('"path":"/demo/pricing"'), server.lines[6]);
    assert.ok(server.lines[6].includes('"title":"Pricing · Pulse demo"'), server.lines[6]);
    assert.ok(contentTypes.every((type) => type === "text/plain"));
    window.close();
  });

  test("a key substituted by the server wins over ?key=", async () => {
    const keyed = await startServer({ projectKey: "proj_server" });
    try {
      const { window, $ } = await openDemo(keyed, "/demo/pricing?key=proj_from_url");
      assert.equal($("#pulse-sdk").dataset.project, "proj_server");
      assert.equal($("#view-pricing").hidden, false, "a reload on the second route shows it");
      window.tracker.flush();
      await waitFor(() => keyed.lines.length >= 1, "the page_view");
      assert.match(keyed.lines[0], /^proj_server page_view /);
      window.close();
    } finally {
      keyed.close();
    }
  });

  test("without any key the page says so and sends nothing", async () => {
    const lines = server.lines.length;
    const { window, $ } = await openDemo(server, "/demo/");
    assert.equal($("#pulse-sdk").dataset.project, "", "the placeholder is not used as a key");
    assert.match($("#key-status").textContent, /no project key/);
    $("#click").click();
    window.tracker.flush();
    await sleep(100);
    assert.deepEqual(server.lines.slice(lines), []);
    window.close();
  });
});
