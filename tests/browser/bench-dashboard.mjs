// Benchmark of the dashboard (docs/benchmarks.md, "Dashboard"): on the seeded demo project,
// through the local platform (`python -m localcloud up`, as `make up` runs it), in headless
// Chromium:
//   - time from navigation to the cards and the chart shown (median of LOADS loads, warm cache
//     as a returning user has it, and the first cold load);
//   - requests per dashboard load (API and static files) and JavaScript transferred;
//   - requests per minute while idle with the live feed open.
//     node bench-dashboard.mjs [--events 20000] [--loads 7] [--idle-s 60]
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

import { REPO_ROOT, startStack } from "./harness.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const EVENTS = arg("events", 20_000);
const LOADS = arg("loads", 7);
const IDLE_S = arg("idle-s", 60);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const stack = await startStack();
try {
  const started = Date.now();
  await promisify(execFile)(
    join(REPO_ROOT, ".venv", "bin", "python"),
    ["scripts/seed_events.py", "--events", String(EVENTS), "--seed", "1", "--quiet", "--api-key", stack.demo.api_key, "--url", stack.ingestUrl, "--database-url", stack.databaseUrl],
    { cwd: REPO_ROOT },
  );
  // let the pipeline store the tail of the seed
  await new Promise((r) => setTimeout(r, 3_000));
  process.stderr.write(`seeded ${EVENTS} events in ${Date.now() - started} ms\n`);

  const context = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(stack.siteUrl + "/login/");
  await page.getByLabel("Email").fill(stack.demo.email);
  await page.getByLabel("Password").fill(stack.demo.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL("**/projects/");

  const url = `${stack.siteUrl}/projects/view/?id=${stack.demo.project_id}`;
  const loads = [];
  for (let i = 0; i <= LOADS; i += 1) {
    const requests = [];
    const onRequest = (r) => requests.push(r);
    page.on("request", onRequest);
    if (i === 0) await context.clearCookies(); // (no cookies are used; the first load is cold for the HTTP cache)
    const t0 = Date.now();
    await page.goto(url);
    await page.getByTestId("card-events-value").waitFor();
    await page.locator(".recharts-surface").waitFor();
    const shown = Date.now() - t0;
    await page.waitForLoadState("networkidle");
    page.off("request", onRequest);
    let jsGzip = 0;
    for (const r of requests.filter((r) => r.url().endsWith(".js"))) {
      const response = await r.response();
      if (response) jsGzip += gzipSync(await response.body(), { level: 9 }).length;
    }
    loads.push({
      shown,
      requests: requests.length,
      api: requests.filter((r) => r.url().includes("/api/v1/")).length,
      js: requests.filter((r) => r.url().endsWith(".js")).length,
      jsGzipKb: +(jsGzip / 1024).toFixed(1),
    });
  }
  const [cold, ...warm] = loads;

  // idle with the live feed open: count every request and WebSocket frame the page sends
  let idleRequests = 0;
  let idleFrames = 0;
  page.on("request", () => (idleRequests += 1));
  page.on("websocket", (ws) => ws.on("framesent", () => (idleFrames += 1)));
  await page.waitForSelector('[data-testid="live-status"][data-status="live"]');
  await page.waitForTimeout(IDLE_S * 1_000);

  const result = {
    events: EVENTS,
    cold_load: cold,
    warm_loads: { n: warm.length, shown_ms_median: median(warm.map((l) => l.shown)), shown_ms_max: Math.max(...warm.map((l) => l.shown)), requests: warm[0].requests, api_requests: warm[0].api },
    idle: { seconds: IDLE_S, http_requests: idleRequests, websocket_frames_sent: idleFrames, per_minute: +((idleRequests * 60) / IDLE_S).toFixed(1) },
  };
  console.log(JSON.stringify(result, null, 2));
  await context.close();
} finally {
  await stack.stop();
}
