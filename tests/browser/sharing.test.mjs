// Visitors now and share links in the dashboard, through the running platform (harness.mjs):
// the owner's visitors-now card changes live as sessions arrive (pushed on the WebSocket), the
// owner makes a share link with a password in the settings, and a visitor in another browser
// context opens it: the password prompt (a wrong password refused), then the read-only
// dashboard with exactly the API's numbers, visitors now pushed live on its own WebSocket, and
// nothing of the settings, key or raw data; a revoked link opens no more. Every page gets an axe-core scan.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";

import { assertAccessible, BROWSER_USER_AGENT, startStack, waitInPage } from "./harness.mjs";

const EMAIL = `sharer-${randomUUID().slice(0, 8)}@example.com`;
const PASSWORD = "correct-horse-9";
const LINK_PASSWORD = "open-sesame-42";

let stack;
let owner; // the owner's browser context and page
let page;
let project;
let token;
let shareUrl;

before(async () => {
  stack = await startStack();
  owner = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await owner.newPage();
  page.on("pageerror", (error) => process.stderr.write(`page error: ${error.message}\n`));
});

after(async () => {
  if (!stack) return;
  await owner?.close().catch(() => {});
  const exit = await stack.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, "the platform stops cleanly on SIGINT");
});

const axe = assertAccessible;

async function api(path, { method = "GET", body, bearer = token } = {}) {
  const response = await fetch(stack.siteUrl + path, {
    method,
    headers: { "content-type": "application/json", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function ingest(events) {
  const response = await fetch(stack.siteUrl + "/api/v1/events/ingest", {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": project.api_key, "user-agent": BROWSER_USER_AGENT },
    body: JSON.stringify({ events, sent_at: new Date().toISOString() }),
  });
  assert.equal(response.status, 202, await response.text());
}

const view = (session, minutesAgo = 0) => ({
  uuid: randomUUID(),
  event: "page_view",
  distinct_id: `anon-${session}`,
  session_id: session,
  page_url: "https://shop.example/",
  properties: { path: "/", secret_note: "raw-only" },
  timestamp: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
});

const cardValue = (target) => target.getByTestId("visitors-now-value").textContent().then((t) => t.trim());

describe("visitors now and share links, through the running platform", () => {
  test("the owner's visitors-now card changes live as sessions come and go", async () => {
    assert.equal((await api("/api/v1/auth/register", { method: "POST", body: { email: EMAIL, password: PASSWORD } })).status, 202);
    const login = await api("/api/v1/auth/login", { method: "POST", body: { email: EMAIL, password: PASSWORD } });
    token = login.body.access_token;
    project = (await api("/api/v1/projects", { method: "POST", body: { name: "Shared shop" } })).body;
    // an older visit: in the reports, not among the visitors now
    await ingest([view("old", 30)]);

    await page.goto(stack.siteUrl + "/login/");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL("**/projects/");
    await page.goto(`${stack.siteUrl}/projects/view/?id=${project.id}`);
    await page.locator('[data-testid="live-status"][data-status="live"]').first().waitFor();
    await waitInPage(page, () => document.querySelector('[data-testid="visitors-now-value"]')?.textContent?.trim() === "0");

    // two sessions arrive: the card shows 2 without a reload, as the API counts them
    await ingest([view("a"), view("b"), view("a")]);
    await waitInPage(page, () => document.querySelector('[data-testid="visitors-now-value"]')?.textContent?.trim() === "2", undefined, 5_000);
    assert.equal((await api(`/api/v1/analytics/${project.id}/visitors-now`)).body.visitors, 2);
    // a third
    await ingest([view("c")]);
    await waitInPage(page, () => document.querySelector('[data-testid="visitors-now-value"]')?.textContent?.trim() === "3", undefined, 5_000);
    // a session whose last event is 4 min 58 s old leaves the window in 2 s: the card drops
    // by itself, with no new event (the client asks again when the oldest session leaves)
    const leaving = view("leaving");
    leaving.timestamp = new Date(Date.now() - (4 * 60 + 58) * 1000).toISOString();
    await ingest([leaving]);
    await waitInPage(page, () => document.querySelector('[data-testid="visitors-now-value"]')?.textContent?.trim() === "4", undefined, 5_000);
    await waitInPage(page, () => document.querySelector('[data-testid="visitors-now-value"]')?.textContent?.trim() === "3", undefined, 8_000);
    await axe(page, "dashboard with visitors now");

    // every raw event of the period, downloaded as one CSV file (its pages joined)
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download all raw events" }).click()]);
    assert.match(download.suggestedFilename(), /^pulse-events-.*\.csv$/);
    const lines = (await readFile(await download.path(), "utf8")).trim().split("\r\n");
    assert.equal(lines[0], "uuid,timestamp,event,distinct_id,session_id,page_url,referrer,received_at,properties");
    assert.equal(lines.length - 1, 6, "the six events ingested");

    // the sessions of the period, every one of them (asked 1,000 a page), as one CSV file
    await page.getByTestId("export").getByLabel("Report").selectOption("sessions");
    const [sessions] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
    assert.match(sessions.suggestedFilename(), /^pulse-sessions-.*\.csv$/);
    const rows = (await readFile(await sessions.path(), "utf8")).trim().split("\r\n");
    assert.match(rows[0], /^session_id,/);
    assert.deepEqual(rows.slice(1).map((r) => r.split(",")[0]).sort(), ["a", "b", "c", "leaving", "old"]);
  });

  test("the owner makes a share link with a password in the settings", async () => {
    await page.goto(`${stack.siteUrl}/projects/settings/?id=${project.id}`);
    const section = page.getByTestId("share-links");
    await section.getByText("No share links yet.").waitFor();
    await section.getByLabel("Label", { exact: true }).fill("Investors");
    await section.getByLabel("Password (optional)").fill(LINK_PASSWORD);
    await section.getByRole("button", { name: "Create share link" }).click();
    shareUrl = (await page.getByTestId("share-url").textContent()).trim();
    assert.match(shareUrl, new RegExp(`^${stack.siteUrl}/share/#shr_[A-Za-z0-9_-]{40,}$`));
    await section.getByRole("button", { name: "Revoke Investors" }).waitFor();
    await section.getByText(/password · reports only/).waitFor();
    await axe(page, "settings with share links");
  });

  test("a visitor opens the link: the password prompt, then the read-only dashboard", async () => {
    const visitor = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const shared = await visitor.newPage();
      const requests = [];
      shared.on("request", (r) => requests.push(r.url()));
      const sockets = []; // the share view's WebSockets: their URL and the types of what came
      shared.on("websocket", (socket) => {
        const seen = { url: socket.url(), types: [] };
        sockets.push(seen);
        socket.on("framereceived", (frame) => seen.types.push(JSON.parse(frame.payload).type));
      });
      await shared.goto(shareUrl);
      await shared.getByRole("heading", { name: "This shared dashboard needs a password" }).waitFor();
      await axe(shared, "share password prompt");
      const password = shared.getByRole("textbox", { name: "Password" });
      await password.fill("wrong-password-1");
      await shared.getByRole("button", { name: "Open the dashboard" }).click();
      await shared.getByText("wrong password for this share link").waitFor();
      await password.fill(LINK_PASSWORD);
      await shared.getByRole("button", { name: "Open the dashboard" }).click();
      await shared.getByTestId("shared-project-name").waitFor();
      assert.equal((await shared.getByTestId("shared-project-name").textContent()).trim(), "Shared shop");

      // the cards say what the owner's API says
      const overview = (await api(`/api/v1/analytics/${project.id}/overview?range=7d`)).body;
      await waitInPage(shared, (n) => document.querySelector('[data-testid="card-events-value"]')?.textContent?.trim() === n, String(overview.total_events));
      assert.equal((await shared.getByTestId("card-sessions-value").textContent()).trim(), String(overview.unique_sessions));
      await waitInPage(shared, () => /^\d+$/.test(document.querySelector('[data-testid="visitors-now-value"]')?.textContent?.trim() ?? ""));
      await shared.getByTestId("breakdown-pages").waitFor();

      // visitors now is pushed on the share session's own WebSocket: a new session shows within
      // seconds and without a request (the fallback poll, while not live, is every 15 s)
      const visitorsNow = (await api(`/api/v1/analytics/${project.id}/visitors-now`)).body.visitors;
      const showing = (n) => document.querySelector('[data-testid="visitors-now-value"]')?.textContent?.trim() === n;
      await waitInPage(shared, showing, String(visitorsNow));
      const polls = () => requests.filter((u) => u.includes("/visitors-now")).length;
      const polled = polls();
      await ingest([view("shared-live")]);
      await waitInPage(shared, showing, String(visitorsNow + 1), 5_000);
      assert.equal(polls(), polled, "visitors now was pushed, not asked for");
      assert.ok(sockets.length >= 1 && sockets.every((s) => /[?&]share_token=/.test(s.url) && !/[?&]token=/.test(s.url)), JSON.stringify(sockets));
      // and that socket carries visitors now only: no events (with their properties), no counters
      const types = new Set(sockets.flatMap((s) => s.types));
      assert.ok(types.has("visitors_now") && [...types].every((t) => t === "visitors_now" || t === "pong"), [...types].join());

      // read-only: no settings, key, project list, feed or raw data anywhere
      const body = await shared.locator("body").innerText();
      assert.ok(!body.includes(project.api_key), "the API key is not shown");
      assert.ok(!body.includes("raw-only"), "no raw properties");
      assert.equal(await shared.getByRole("link", { name: /settings/i }).count(), 0);
      assert.equal(await shared.getByRole("button", { name: "Download all raw events" }).count(), 0);
      const asked = requests.filter((u) => u.includes("/api/v1/")).map((u) => new URL(u).pathname);
      assert.ok(asked.every((p) => p === "/api/v1/share/session" || p.startsWith(`/api/v1/analytics/${project.id}/`)), asked.join("\n"));
      assert.ok(!asked.some((p) => /\/(events|users|sessions)$/.test(p)), "no raw report asked for");
      await axe(shared, "shared dashboard");

      // the report export works with the share session
      const [download] = await Promise.all([shared.waitForEvent("download"), shared.getByRole("button", { name: "Download CSV" }).click()]);
      assert.match(download.suggestedFilename(), /^pulse-overview-.*\.csv$/);

      // a link that allows the raw data shows the events with their properties, and their export
      const raw = (await api(`/api/v1/projects/${project.id}/share-links`, { method: "POST", body: { allow_raw: true } })).body;
      const rawView = await visitor.newPage();
      await rawView.goto(`${stack.siteUrl}${raw.path}`);
      await rawView.getByTestId("explorer-table").waitFor();
      await rawView.getByText("raw-only").first().waitFor();
      await rawView.getByRole("button", { name: "Download all raw events" }).waitFor();
      await axe(rawView, "shared dashboard with raw data");
      await rawView.close();

      // the owner revokes the link: the share view's next request is refused, and the link is dead
      const links = (await api(`/api/v1/projects/${project.id}/share-links`)).body.links;
      const investors = links.find((l) => l.label === "Investors");
      assert.equal((await api(`/api/v1/projects/${project.id}/share-links/${investors.id}`, { method: "DELETE" })).status, 204);
      await shared.getByLabel("Date range").selectOption("30d");
      await shared.getByText(/this share link was revoked/).first().waitFor();
      await shared.goto("about:blank");
      await shared.goto(shareUrl);
      await shared.getByText("this share link does not exist or was revoked").waitFor();
    } finally {
      await visitor.close();
    }
  });
});
