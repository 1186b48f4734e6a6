// The funnels and retention screens in headless Chromium against the whole local platform:
// build a funnel with the step editor, see its steps with exactly the counts the API answers,
// then open retention from the project's top bar and see the cohort triangle the API answers.
// Every page gets an axe-core scan. Screenshots go to docs/screenshots/{funnels,retention}.png.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { assertAccessible, BROWSER_USER_AGENT, REPO_ROOT, startStack } from "./harness.mjs";

const SCREENSHOTS = join(REPO_ROOT, "docs", "screenshots");
const TZ = "Europe/Paris";
const EMAIL = `funnels-${randomUUID().slice(0, 8)}@example.com`;
const PASSWORD = "correct-horse-9";

let stack;
let context;
let page;
let project;
let token;

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

async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(stack.siteUrl + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Three days of visits: each visitor views /pricing, some sign up, some come back later. */
function traffic() {
  const now = Date.now();
  const events = [];
  const at = (hoursAgo, minutes = 0) => new Date(now - hoursAgo * 3_600_000 + minutes * 60_000).toISOString();
  const add = (event, user, session, time, properties = {}) =>
    events.push({ uuid: randomUUID(), event, distinct_id: user, session_id: session, page_url: `https://shop.example${properties.path ?? "/"}`, properties, timestamp: time });
  for (let i = 0; i < 12; i++) {
    const user = `visitor-${i}`;
    const first = 60 - i * 4; // first seen 60 to 16 hours ago
    add("page_view", user, `${user}-a`, at(first), { path: "/pricing" });
    if (i % 2 === 0) add("signup", user, `${user}-a`, at(first, 3), { plan: i % 4 === 0 ? "pro" : "free" });
    if (i % 3 === 0) add("page_view", user, `${user}-b`, at(first - 14), { path: "/docs" }); // back 14 hours later
  }
  return events;
}

const funnelBody = { steps: [{ event: "page_view", page: "/pricing" }, { event: "signup" }], window: "1h", by: "session" };
const rows = (locator) => locator.evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent.trim())));

describe("funnels and retention, through the running platform", () => {
  test("log in, with a project and three days of events", async () => {
    assert.equal((await api("/api/v1/auth/register", { method: "POST", body: { email: EMAIL, password: PASSWORD } })).status, 202);
    token = (await api("/api/v1/auth/login", { method: "POST", body: { email: EMAIL, password: PASSWORD } })).body.access_token;
    project = (await api("/api/v1/projects", { method: "POST", body: { name: "Funnel shop" } })).body;
    const events = traffic();
    const sent = await fetch(stack.siteUrl + "/api/v1/events/ingest", {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": project.api_key, "user-agent": BROWSER_USER_AGENT },
      body: JSON.stringify({ events, sent_at: new Date().toISOString() }),
    });
    assert.equal(sent.status, 202);
    // stored once the ad-hoc funnel over the week sees every entry
    const deadline = Date.now() + 20_000;
    let total = 0;
    while (total < events.length && Date.now() < deadline) {
      total = (await api(`/api/v1/analytics/${project.id}/overview?range=7d`)).body.total_events;
      if (total < events.length) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(total, events.length);

    await page.goto(stack.siteUrl + "/login/");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL("**/projects/");
  });

  test("build a funnel with the step editor; its steps show the API's counts", async () => {
    await page.goto(`${stack.siteUrl}/projects/view/?id=${project.id}`);
    await page.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Funnels" }).click();
    await page.waitForURL("**/projects/funnels/?id=*");
    await page.getByText("No funnels yet.").waitFor();
    await axe("funnels, empty");
    await page.getByRole("button", { name: "New funnel" }).click();
    await page.getByTestId("funnel-name").fill("Pricing to signup");
    await page.getByTestId("step-0-event").fill("page_view");
    await page.getByTestId("step-0-page").fill("/pricing");
    await page.getByTestId("step-1-event").fill("signup");
    await page.getByLabel("Window").selectOption("1h");
    await axe("funnel editor");
    await page.getByRole("button", { name: "Save funnel" }).click();
    await page.waitForURL("**/projects/funnels/?id=*&funnel=*");
    await page.getByTestId("funnel-title").filter({ hasText: "Pricing to signup" }).waitFor();
    await page.getByTestId("funnel-step-row").nth(1).waitFor();

    // the saved funnel is the one built, and the table shows what the API computes for it
    const saved = (await api(`/api/v1/projects/${project.id}/funnels`)).body.funnels;
    assert.equal(saved.length, 1);
    assert.deepEqual(
      saved[0].steps.map((s) => [s.event, s.page]),
      funnelBody.steps.map((s) => [s.event, s.page ?? null]),
    );
    const result = (await api(`/api/v1/analytics/${project.id}/funnels/${saved[0].id}?range=7d&tz=${encodeURIComponent(TZ)}`)).body;
    assert.deepEqual(result.steps.map((s) => s.count), [12, 6]);
    const shown = await rows(page.getByTestId("funnel-step-row"));
    assert.deepEqual(
      shown.map((r) => [r[0], r[1]]),
      [
        ["1. page_view on /pricing", "12"],
        ["2. signup", "6"],
      ],
    );
    assert.equal(shown[1][2], "50%");
    assert.equal(shown[1][5], "3m 0s");
    await page.locator(".recharts-surface").waitFor();
    await axe("funnel result");
    await page.screenshot({ path: join(SCREENSHOTS, "funnels.png"), fullPage: true });
  });

  test("retention from the top bar: the triangle shows the API's cohorts", async () => {
    await page.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Retention" }).click();
    await page.waitForURL("**/projects/retention/?id=*");
    await page.getByTestId("retention-table").waitFor();
    const answer = (await api(`/api/v1/analytics/${project.id}/retention?range=7d&period=day&tz=${encodeURIComponent(TZ)}`)).body;
    assert.equal(answer.cohorts.reduce((n, c) => n + c.size, 0), 12);
    const shown = await rows(page.getByTestId("retention-row"));
    assert.equal(shown.length, answer.cohorts.length);
    shown.forEach((cells, i) => {
      const cohort = answer.cohorts[i];
      assert.equal(cells[1], String(cohort.size));
      const shares = cells.slice(2, 2 + cohort.counts.length);
      const want = cohort.counts.map((n) => (cohort.size ? `${Math.round((n / cohort.size) * 1000) / 10}%` : "—"));
      assert.deepEqual(shares, want, `cohort ${cohort.cohort}`);
    });
    await axe("retention");
    // weekly cohorts, from the URL
    await page.getByRole("button", { name: "Weekly" }).click();
    await page.waitForURL("**period=week*");
    await page.getByRole("columnheader", { name: "Week 0" }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "retention.png"), fullPage: true });
  });
});
