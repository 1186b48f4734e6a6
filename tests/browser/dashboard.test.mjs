// The dashboard (frontend/out, served by the local platform's front door with /config.json) in
// headless Chromium against the whole local platform: register, create a project, send events
// through the ingest API, and check that the cards, chart and tables show exactly what the
// analytics API answers, that a new event reaches the live feed within a second, and that no
// page has a serious accessibility violation (axe-core). Screenshots go to docs/screenshots/.
//
// The browser runs in Europe/Paris, so the time zone the dashboard sends (`tz`) is not UTC.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";

import { assertAccessible, REPO_ROOT, startStack, waitInPage } from "./harness.mjs";

const SCREENSHOTS = join(REPO_ROOT, "docs", "screenshots");
const TZ = "Europe/Paris";
const EMAIL = `owner-${randomUUID().slice(0, 8)}@example.com`;
const PASSWORD = "correct-horse-9";
const LIVE_BUDGET_MS = 1_000;

let stack;
let context;
let page;
let project; // {id, name, api_key}
let token; // an access token of the same user, for asking the API directly

before(async () => {
  if (!existsSync(join(REPO_ROOT, "frontend", "out", "index.html")))
    throw new Error("frontend/out is missing: run `make frontend` (make test-browser builds it)");
  stack = await startStack();
  context = await stack.browser.newContext({ timezoneId: TZ, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on("pageerror", (error) => process.stderr.write(`page error: ${error.message}\n`));
  mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  if (!stack) return;
  await context?.close().catch(() => {});
  const exit = await stack.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, "the platform stops cleanly on SIGINT");
});

/** Inject axe-core and fail on serious or critical violations. */
const axe = (label) => assertAccessible(page, label);

async function api(path, { method = "GET", body, headers = {} } = {}) {
  const response = await fetch(stack.siteUrl + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function ingest(events, apiKey = project.api_key) {
  const response = await fetch(stack.siteUrl + "/api/v1/events/ingest", {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": apiKey },
    body: JSON.stringify({ events, sent_at: new Date().toISOString() }),
  });
  return { status: response.status, body: await response.json() };
}

const analytics = (report, query) =>
  api(`/api/v1/analytics/${project.id}/${report}?${new URLSearchParams({ range: "24h", tz: TZ, ...query })}`).then((r) => {
    assert.equal(r.status, 200, `${report}: ${JSON.stringify(r.body)}`);
    return r.body;
  });

const text = (locator) => locator.textContent().then((t) => t.trim());
// The sections below the cards load on their own: wait until one shows as many rows as the API
// gave before reading them (read at once, a section still loading came out empty).
async function rowsShown(locator, n, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while ((await locator.count()) !== n) {
    assert.ok(Date.now() < deadline, `${what}: ${await locator.count()} rows shown, the API gave ${n}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return locator;
}
const fmt = (n) => n.toLocaleString("en-US");

/** A breakdown card's rows as shown: value, count, sessions, users. */
async function breakdownShown(id, n) {
  const rows = page.getByTestId(`breakdown-${id}-table`).locator("tbody tr");
  await rowsShown(rows, n, id);
  return rows.evaluateAll((trs) => trs.map((tr) => [tr.dataset.value, ...[...tr.cells].slice(1).map((c) => c.textContent)]));
}
const breakdownRows = (data) => data.items.map((i) => [i.value, fmt(i.count), fmt(i.unique_sessions), fmt(i.unique_users)]);

/** The traffic: 3 sessions over the last hours, page views with UTM and referrers, a signup, a purchase. */
function traffic() {
  const now = Date.now();
  const at = (minutesAgo) => new Date(now - minutesAgo * 60_000).toISOString();
  const view = (session, user, path, minutesAgo, extra = {}) => ({
    uuid: randomUUID(),
    event: "page_view",
    distinct_id: user,
    session_id: session,
    page_url: `https://shop.example${path}`,
    referrer: extra.referrer ?? "",
    properties: { path, ...(extra.utm ? { utm_source: extra.utm } : {}) },
    timestamp: at(minutesAgo),
  });
  return [
    view("s-1", "anon-1", "/", 180, { referrer: "https://www.google.com/search", utm: "newsletter" }),
    view("s-1", "anon-1", "/pricing", 178),
    { uuid: randomUUID(), event: "signup", distinct_id: "anon-1", session_id: "s-1", properties: { plan: "pro" }, timestamp: at(177) },
    { uuid: randomUUID(), event: "$identify", distinct_id: "user_42", session_id: "s-1", properties: { plan: "pro", company: "Acme" }, timestamp: at(176) },
    view("s-2", "anon-2", "/", 95, { referrer: "https://news.ycombinator.com/" }),
    view("s-3", "user_42", "/docs", 30),
    view("s-3", "user_42", "/pricing", 29),
    { uuid: randomUUID(), event: "purchase", distinct_id: "user_42", session_id: "s-3", properties: { revenue: 49 }, timestamp: at(28) },
  ];
}

describe("the dashboard, through the running platform", () => {
  test("register: field errors from the form and from the server, then an account", async () => {
    await page.goto(stack.siteUrl + "/register/");
    await page.getByRole("heading", { name: "Create your Pulse account" }).waitFor();
    await axe("register");
    await page.getByLabel("Email").fill("not-an-email");
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    assert.match(await text(page.locator("#" + (await page.getByLabel("Email").getAttribute("aria-describedby")).split(" ")[0])), /email address/);
    assert.equal(await page.getByLabel("Password").getAttribute("aria-invalid"), "true");

    // the server's own rules: its 422 message lands on the field it names
    await page.getByLabel("Email").fill("someone@pulse.local");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText(/special-use or reserved name/).waitFor();
    // a taken email (another password): the API answers registration alike for any email, and
    // the login after it is refused; that lands on the email field
    const taken = `taken-${randomUUID().slice(0, 8)}@example.com`;
    assert.equal((await api("/api/v1/auth/register", { method: "POST", body: { email: taken, password: "an0ther-Passw0rd" } })).status, 202);
    await page.getByLabel("Email").fill(taken);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("This email is already registered").waitFor();

    await page.getByLabel("Email").fill(EMAIL);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL("**/projects/");
    await page.getByText("No projects yet").waitFor();
    await axe("projects, empty");
    // nothing but the refresh token in storage; the access token stays in memory
    const stored = await page.evaluate(() => ({ local: { ...localStorage }, session: { ...sessionStorage } }));
    assert.deepEqual(Object.keys(stored.local), []);
    assert.deepEqual(Object.keys(stored.session), ["pulse_refresh_token"]);

    const login = await api("/api/v1/auth/login", { method: "POST", body: { email: EMAIL, password: PASSWORD } });
    assert.equal(login.status, 200);
    token = login.body.access_token;
  });

  test("create a project; the next step is the snippet with this deployment's SDK URL", async () => {
    await page.getByLabel("Name").fill("Browser shop");
    await page.getByRole("button", { name: "Create project" }).click();
    await page.getByRole("link", { name: "Browser shop", exact: true }).waitFor();
    const snippet = await text(page.locator(`pre[aria-label="Tracking snippet"]`));
    const { body } = await api("/api/v1/projects");
    assert.equal(body.projects.length, 1);
    project = body.projects[0];
    assert.equal(snippet, `<script src="${stack.siteUrl}/sdk/tracker.min.js" data-project="${project.api_key}" defer></script>`);
  });

  test("the cards, chart and tables show exactly what the API answers", async () => {
    const events = traffic();
    const sent = await ingest(events);
    assert.deepEqual(sent, { status: 202, body: { accepted: events.length, rejected: [] } });
    // wait until the pipeline has stored them all (the API is the reference)
    const deadline = Date.now() + 15_000;
    while ((await analytics("overview")).total_events < events.length) {
      assert.ok(Date.now() < deadline, "the events were not stored in 15 s");
      await new Promise((r) => setTimeout(r, 200));
    }
    const [overview, series, top, pages, referrers, countries, sessions, users] = await Promise.all([
      analytics("overview"),
      analytics("timeseries", { interval: "hour" }),
      analytics("top-events", { limit: "10" }),
      analytics("breakdown", { dimension: "page", limit: "10" }),
      analytics("breakdown", { dimension: "referrer", limit: "10" }),
      analytics("breakdown", { dimension: "country", limit: "10" }),
      analytics("sessions", { limit: "10" }),
      analytics("users", { limit: "10" }),
    ]);
    assert.equal(overview.total_events, 8);

    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    const started = Date.now();
    await page.goto(`${stack.siteUrl}/projects/view/?id=${project.id}&range=24h`);
    await page.getByTestId("card-events-value").waitFor();
    await page.locator(".recharts-surface").waitFor();
    const shownMs = Date.now() - started;
    process.stderr.write(`dashboard: cards and chart shown ${shownMs} ms after navigation, ${requests.length} requests\n`);

    assert.equal(await text(page.getByTestId("tz")), TZ);
    assert.equal(await text(page.getByTestId("card-events-value")), fmt(overview.total_events));
    assert.equal(await text(page.getByTestId("card-sessions-value")), fmt(overview.unique_sessions));
    assert.equal(await text(page.getByTestId("card-users-value")), fmt(overview.unique_users));
    assert.equal(await text(page.getByTestId("card-top-value")), overview.top_event.name);
    // every analytics request carried the range and the browser's zone
    // (visitors now has no range: it is the last five minutes)
    const analyticsUrls = requests
      .filter((u) => u.includes("/api/v1/analytics/") && !u.includes("/visitors-now"))
      .map((u) => new URL(u));
    assert.ok(analyticsUrls.length >= 8, `${analyticsUrls.length} analytics requests`);
    for (const url of analyticsUrls) assert.equal(url.searchParams.get("tz"), TZ, url.pathname);

    // the chart: each hourly bucket's count, as the API gave it
    const rows = await page.getByTestId("chart-table").locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.deepEqual(rows, series.points.map((p) => [p.bucket, String(p.count)]));
    // top events, in order, with their counts
    await rowsShown(page.getByTestId("top-events").getByRole("button"), top.events.length, "top events");
    const bars = await page.getByTestId("top-events").getByRole("button").evaluateAll((bs) => bs.map((b) => [b.dataset.name, b.dataset.count, b.dataset.users]));
    assert.deepEqual(bars, top.events.map((e) => [e.name, String(e.count), String(e.unique_users)]));
    // the breakdown cards: pages, referrers, countries
    for (const [id, data] of [["page", pages], ["referrer", referrers], ["country", countries]]) {
      assert.deepEqual(await breakdownShown(id, data.items.length), breakdownRows(data), id);
    }
    // sessions summary and table, users table
    await rowsShown(page.getByTestId("sessions-table").locator("tbody tr"), sessions.list.length, "sessions");
    await rowsShown(page.getByTestId("users-table").locator("tbody tr"), users.users.length, "users");
    assert.equal(await text(page.getByTestId("sessions-count")), fmt(sessions.sessions));
    assert.equal(await text(page.getByTestId("sessions-bounce")), `${(sessions.bounce_rate * 100).toFixed(1)}%`);
    assert.equal(await text(page.getByTestId("sessions-pages")), sessions.pages_per_session.toFixed(2));
    assert.equal(await page.getByTestId("sessions-table").locator("tbody tr").count(), sessions.list.length);
    const userIds = await page.getByTestId("users-table").locator("tbody tr td:first-child").allTextContents();
    assert.deepEqual(userIds, users.users.map((u) => u.distinct_id));
    await axe("dashboard");
  });

  test("clicking a top event filters the cards and the chart; the filter can be cleared", async () => {
    const filtered = await analytics("overview", { event: "page_view" });
    await page.getByTestId("top-events").getByRole("button", { name: /^Filter by page_view/ }).click();
    await page.getByTestId("event-filter").waitFor();
    await page.waitForFunction((n) => document.querySelector('[data-testid="card-events-value"]')?.textContent === n, fmt(filtered.total_events));
    assert.equal(new URL(page.url()).searchParams.get("event"), "page_view");
    await page.getByRole("button", { name: /Clear filter/ }).click();
    await page.getByTestId("event-filter").waitFor({ state: "detached" });
    await page.waitForFunction(() => document.querySelector('[data-testid="card-events-value"]')?.textContent === "8");
  });

  test("a new event shows in the live feed within a second, and the card ticks up", async () => {
    await page.waitForSelector('[data-testid="live-status"][data-status="live"]');
    const uuid = randomUUID();
    const sent = Date.now();
    const result = await ingest([{ uuid, event: "live_check", distinct_id: "user_42", session_id: "s-3", properties: { n: 1 }, page_url: "https://shop.example/live" }]);
    assert.equal(result.status, 202);
    await page.locator('[data-testid="live-feed"] li[data-event="live_check"]').waitFor({ timeout: 5_000 });
    const elapsed = Date.now() - sent;
    process.stderr.write(`live feed: the event showed ${elapsed} ms after the ingest request\n`);
    assert.ok(elapsed <= LIVE_BUDGET_MS, `the event took ${elapsed} ms to show (budget ${LIVE_BUDGET_MS} ms)`);
    // the cached card moved without waiting for a refetch
    await page.waitForFunction(() => document.querySelector('[data-testid="card-events-value"]')?.textContent === "9", undefined, { timeout: 2_000 });
  });

  test("pause holds the feed; resume shows what came meanwhile", async () => {
    await page.getByRole("button", { name: "Pause" }).click();
    const result = await ingest([{ uuid: randomUUID(), event: "while_paused", distinct_id: "u", session_id: "s-9", properties: {} }]);
    assert.equal(result.status, 202);
    await page.getByRole("button", { name: "Resume (1 new)" }).waitFor({ timeout: 5_000 });
    assert.equal(await page.locator('li[data-event="while_paused"]').count(), 0);
    await page.getByRole("button", { name: /Resume/ }).click();
    await page.locator('li[data-event="while_paused"]').waitFor();
  });

  test("a user page lists the user's properties and events, newest first", async () => {
    const user = await api(`/api/v1/analytics/${project.id}/users/user_42?range=24h&tz=${encodeURIComponent(TZ)}`);
    await page.getByRole("link", { name: "user_42" }).click();
    await page.getByRole("heading", { name: "User user_42" }).waitFor();
    await page.getByTestId("user-events").waitFor();
    const names = await page.getByTestId("user-events").locator("tbody tr td:nth-child(2)").allTextContents();
    assert.deepEqual(names, user.body.events.map((e) => e.event));
    await page.getByText("Acme", { exact: true }).waitFor();
    await axe("user page");
  });

  test("the events explorer filters by name", async () => {
    await page.goto(`${stack.siteUrl}/projects/view/?id=${project.id}&range=24h`);
    await page.getByLabel("Event name").fill("signup");
    await page.getByRole("button", { name: "Filter", exact: true }).click();
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('[data-testid="explorer-table"] tbody td:nth-child(2)')];
      return cells.length === 1 && cells[0].textContent === "signup";
    });
  });

  test("clicking a breakdown row filters every report; the chip and the URL keep the filter across a reload", async () => {
    await page.goto(`${stack.siteUrl}/projects/view/?id=${project.id}&range=24h`);
    const all = await analytics("overview");
    await page.waitForFunction((n) => document.querySelector('[data-testid="card-events-value"]')?.textContent === n, fmt(all.total_events));
    const filter = "page:/pricing";
    const [overview, referrers, sessions] = await Promise.all([
      analytics("overview", { filter }),
      analytics("breakdown", { dimension: "referrer", filter }),
      analytics("sessions", { filter, limit: "10" }),
    ]);
    assert.ok(overview.total_events > 0 && overview.total_events < all.total_events, JSON.stringify(overview));
    await page.getByTestId("breakdown-page-table").getByRole("button", { name: "Filter by page /pricing" }).click();

    const shownFiltered = async () => {
      await page.locator(`[data-testid="filter-chips"] [data-filter="${filter}"]`).waitFor();
      assert.deepEqual(new URL(page.url()).searchParams.getAll("filter"), [filter]);
      await page.waitForFunction((n) => document.querySelector('[data-testid="card-events-value"]')?.textContent === n, fmt(overview.total_events));
      assert.equal(await text(page.getByTestId("card-sessions-value")), fmt(overview.unique_sessions));
      await page.waitForFunction((n) => document.querySelector('[data-testid="sessions-count"]')?.textContent === n, fmt(sessions.sessions));
      assert.deepEqual(await breakdownShown("referrer", referrers.items.length), breakdownRows(referrers));
    };
    await shownFiltered();
    await axe("dashboard with a filter");
    await page.reload();
    await shownFiltered();

    await page.getByRole("button", { name: "Remove filter Page: /pricing" }).click();
    await page.getByTestId("filter-chips").waitFor({ state: "detached" });
    assert.deepEqual(new URL(page.url()).searchParams.getAll("filter"), []);
    await page.waitForFunction((n) => document.querySelector('[data-testid="card-events-value"]')?.textContent === n, fmt(all.total_events));
  });

  test("phone width: one column, nothing wider than the screen", async () => {
    const phone = await stack.browser.newContext({ timezoneId: TZ, viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.addInitScript((v) => sessionStorage.setItem("pulse_refresh_token", v), await page.evaluate(() => sessionStorage.getItem("pulse_refresh_token")));
    const small = await phone.newPage();
    try {
      await small.goto(`${stack.siteUrl}/projects/view/?id=${project.id}&range=24h`);
      await small.getByTestId("card-events-value").waitFor();
      await small.locator(".recharts-surface").waitFor();
      const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the phone`);
      await small.screenshot({ path: join(SCREENSHOTS, "dashboard-phone.png") });
    } finally {
      await phone.close();
    }
    // the phone context spent this tab's refresh token: this tab continues after a new login
    await page.goto(stack.siteUrl + "/login/");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL("**/projects/");
  });

  test("settings: copy, rotate (after a confirm; the old key dies at once), then delete after typing the name", async () => {
    await page.goto(`${stack.siteUrl}/projects/settings/?id=${project.id}`);
    const oldKey = await text(page.getByTestId("api-key"));
    assert.equal(oldKey, project.api_key);
    assert.equal(
      await text(page.locator(`pre[aria-label="Tracking snippet"]`)),
      `<script src="${stack.siteUrl}/sdk/tracker.min.js" data-project="${oldKey}" defer></script>`,
    );
    await axe("settings");
    await page.screenshot({ path: join(SCREENSHOTS, "settings.png"), fullPage: true });

    await page.getByRole("button", { name: "Rotate key…" }).click();
    await page.getByRole("alertdialog").waitFor();
    await page.getByRole("button", { name: "Rotate now" }).click();
    await page.waitForFunction((old) => document.querySelector('[data-testid="api-key"]')?.textContent !== old, oldKey);
    const newKey = await text(page.getByTestId("api-key"));
    assert.equal((await ingest([{ event: "after_rotate" }], oldKey)).status, 401, "the old key is refused");
    assert.equal((await ingest([{ event: "after_rotate" }], newKey)).status, 202);

    const remove = page.getByRole("button", { name: "Delete project" });
    assert.equal(await remove.isDisabled(), true);
    await page.getByLabel(/Type the project's name/).fill("Browser sho");
    assert.equal(await remove.isDisabled(), true);
    await page.getByLabel(/Type the project's name/).fill("Browser shop");
    await remove.click();
    await page.waitForURL("**/projects/");
    await page.getByText("No projects yet").waitFor();
    assert.equal((await api(`/api/v1/projects/${project.id}`)).status, 404);
  });

  test("log out: back to the login page, and the refresh token is revoked", async () => {
    const refresh = await page.evaluate(() => sessionStorage.getItem("pulse_refresh_token"));
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL("**/login/");
    await axe("login");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("pulse_refresh_token")), null);
    const reuse = await api("/api/v1/auth/refresh", { method: "POST", body: { refresh_token: refresh } });
    assert.equal(reuse.status, 401);
    await page.goto(`${stack.siteUrl}/projects/`);
    await page.waitForURL("**/login/?next=*");
  });
});

describe("the demo user watches the demo shop live (the README's walk-through)", () => {
  test("seeded week on the cards; clicks in the shop arrive in the live feed", async () => {
    // a week of traffic for the demo project, through the ingest API (scripts/seed_events.py)
    await promisify(execFile)(
      join(REPO_ROOT, ".venv", "bin", "python"),
      ["scripts/seed_events.py", "--events", "3000", "--seed", "7", "--quiet", "--api-key", stack.demo.api_key, "--url", stack.ingestUrl, "--database-url", stack.databaseUrl, "--edge-secret-file", join(stack.dataDir, "edge-secret.txt")],
      { cwd: REPO_ROOT },
    );
    const demo = await stack.browser.newContext({ timezoneId: TZ, viewport: { width: 1280, height: 900 } });
    const dashboard = await demo.newPage();
    try {
      await dashboard.goto(stack.siteUrl + "/login/");
      await dashboard.getByLabel("Email").fill(stack.demo.email);
      await dashboard.getByLabel("Password").fill(stack.demo.password);
      await dashboard.getByRole("button", { name: "Log in" }).click();
      await dashboard.waitForURL("**/projects/");
      await dashboard.getByRole("link", { name: "Demo shop", exact: true }).click();
      await dashboard.waitForURL("**/projects/view/?id=*");
      await dashboard.waitForSelector('[data-testid="live-status"][data-status="live"]');
      // the seeded week is stored (the API says so), then the cards show the API's number
      const login = await api("/api/v1/auth/login", { method: "POST", body: { email: stack.demo.email, password: stack.demo.password } });
      const demoToken = login.body.access_token;
      const overview = async () =>
        (await api(`/api/v1/analytics/${stack.demo.project_id}/overview?range=7d&tz=${encodeURIComponent(TZ)}`, { headers: { authorization: `Bearer ${demoToken}` } })).body;
      const deadline = Date.now() + 20_000;
      let seeded = await overview();
      while (seeded.total_events < 3000 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        seeded = await overview();
      }
      await dashboard.reload();
      await waitInPage(dashboard, (n) => document.querySelector('[data-testid="card-events-value"]')?.textContent === n, fmt(seeded.total_events));
      await dashboard.waitForSelector('[data-testid="live-status"][data-status="live"]');
      // the seeded visitors' countries (make seed sends their addresses as CloudFront would)
      const countries = (await api(`/api/v1/analytics/${stack.demo.project_id}/breakdown?dimension=country&range=7d&tz=${encodeURIComponent(TZ)}`, { headers: { authorization: `Bearer ${demoToken}` } })).body.items;
      assert.ok(countries.length >= 5 && countries[0].value === "US", JSON.stringify(countries));
      await dashboard.locator('[data-testid="breakdown-country"] tr[data-value="US"]').waitFor();

      const shop = await demo.newPage();
      await shop.goto(stack.siteUrl + "/demo/");
      await waitInPage(shop, () => window.tracker && !window.tracker.q);
      await shop.click('button[data-product="keyboard"]');
      await shop.evaluate(() => tracker.flush());
      await dashboard.locator('[data-testid="live-feed"] li[data-event="add_to_cart"]').first().waitFor({ timeout: 5_000 });
      await shop.close();
      await dashboard.locator(".recharts-surface").waitFor();
      await dashboard.waitForTimeout(300);
      await dashboard.screenshot({ path: join(SCREENSHOTS, "dashboard.png"), fullPage: true });
    } finally {
      await demo.close();
    }
  });
});
