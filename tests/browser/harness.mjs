// Shared harness of the browser tests: ONE local platform (`python -m localcloud up`, exactly
// what `make up` runs) on free ports with its own database, data folder and Redis key prefix,
// ONE headless Chromium, a Postgres pool, and helpers that poll Postgres instead of sleeping.
//
// Settings (environment):
//   PULSE_TEST_PG_URL         Postgres server, default postgresql://postgres@127.0.0.1:5432
//   PULSE_TEST_REDIS_URL      Redis, default redis://127.0.0.1:6379/0
//   PULSE_BROWSER_DATABASE    database to (re)create for the run, default pulse_browser
//   CHROMIUM_PATH             browser binary, default /usr/bin/chromium
//   PULSE_BROWSER_DEBUG=1     print the platform's output as it comes

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

import pg from "pg";
import { chromium } from "playwright-core";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PG_SERVER_URL = process.env.PULSE_TEST_PG_URL || "postgresql://postgres@127.0.0.1:5432";
const REDIS_URL = process.env.PULSE_TEST_REDIS_URL || "redis://127.0.0.1:6379/0";
const DATABASE = process.env.PULSE_BROWSER_DATABASE || "pulse_browser";
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const DEBUG = process.env.PULSE_BROWSER_DEBUG === "1";
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;
export const INGEST_PATH = "/api/v1/events/ingest";

// Headless Chromium says "HeadlessChrome" in its User-Agent, and ingest drops the events of
// headless browsers as a bot's: the tests stand in for a person's browser, so they say "Chrome".
export const BROWSER_USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

const CHROMIUM_ARGS = [
  `--user-agent=${BROWSER_USER_AGENT}`,
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function recreateDatabase(name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const client = new pg.Client({ connectionString: `${PG_SERVER_URL}/postgres` });
  await client.connect();
  try {
    await client.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
      [name],
    );
    await client.query(`DROP DATABASE IF EXISTS "${name}"`);
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

/** Start `python -m localcloud up`; resolves once it printed `ready`. */
async function startPlatform(dataDir, databaseUrl) {
  const python = join(REPO_ROOT, ".venv", "bin", "python");
  if (!existsSync(python)) throw new Error(`${python} is missing: run \`make install\` first`);
  const redisPrefix = `browser:${randomBytes(4).toString("hex")}:`;
  // Port 0 everywhere: the platform binds free ones at once and writes them to endpoints.json
  // (ports picked here and handed over could be taken by any other program in between).
  await rm(join(dataDir, "endpoints.json"), { force: true });
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    LOCAL_REDIS_KEY_PREFIX: redisPrefix,
    LOCAL_DATA_DIR: dataDir,
    LOCAL_HTTP_PORT: "0",
    LOCAL_WS_PORT: "0",
    LOCAL_STATIC_PORT: "0",
    LOCAL_AWS_PORT: "0",
    LOCAL_KINESIS_PORT: "0",
    PULSE_ENVIRONMENT: "development",
    PYTHONUNBUFFERED: "1",
  };
  // settings a developer's shell may carry that would point the functions elsewhere
  for (const name of [
    "PULSE_DATABASE_URL",
    "PULSE_REDIS_URL",
    "PULSE_REDIS_KEY_PREFIX",
    "PULSE_JWT_SECRET",
    "PULSE_JWT_SECRET_ARN",
  ])
    delete env[name];
  const child = spawn(python, ["-m", "localcloud", "up"], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = [];
  const exited = new Promise((resolveExit) =>
    child.once("exit", (code, signal) => resolveExit({ code, signal })),
  );
  const ready = new Promise((resolveReady, reject) => {
    let buffered = "";
    const onData = (chunk) => {
      const text = chunk.toString();
      output.push(text);
      if (DEBUG) process.stderr.write(text);
      buffered += text;
      const lines = buffered.split("\n");
      buffered = lines.pop();
      if (lines.some((line) => line.trim() === "ready")) resolveReady();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => {
      output.push(chunk.toString());
      if (DEBUG) process.stderr.write(chunk);
    });
    child.once("error", reject);
    exited.then(({ code, signal }) =>
      reject(new Error(`the platform exited (${code ?? signal}) before ready:\n${output.join("")}`)),
    );
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the platform was not ready in ${START_TIMEOUT_MS} ms:\n${output.join("")}`)),
      START_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const endpoints = JSON.parse(await readFile(join(dataDir, "endpoints.json"), "utf8"));
  return {
    child,
    exited,
    python,
    redisPrefix,
    output,
    httpUrl: endpoints.http,
    siteUrl: endpoints.site,
  };
}

/**
 * Start everything; returns the stack. Call `stack.stop()` at the end: it closes the browser,
 * stops the platform with SIGINT (as Ctrl-C would) and resolves with its exit {code, signal}.
 */
export async function startStack() {
  const started = Date.now();
  const dataDir = await mkdtemp(join(tmpdir(), "pulse-browser-"));
  const databaseUrl = `${PG_SERVER_URL}/${DATABASE}`;
  await recreateDatabase(DATABASE);
  const platform = await startPlatform(dataDir, databaseUrl);
  // if this process dies without stopping, do not leave the platform running
  const orphanGuard = () => platform.child.kill("SIGKILL");
  process.once("exit", orphanGuard);
  let browser;
  let db;
  try {
    const demo = JSON.parse(await readFile(join(dataDir, "demo.json"), "utf8"));
    db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    // One Chromium for the run. Playwright gives it a fresh temporary profile
    // (--user-data-dir), deleted on close; each test opens its own context, so its own
    // localStorage and sessionStorage: its own anonymous distinct_id and session.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    if (DEBUG) process.stderr.write(`stack ready in ${Date.now() - started} ms\n`);
    return {
      demo,
      db,
      browser,
      siteUrl: platform.siteUrl,
      httpUrl: platform.httpUrl,
      databaseUrl,
      /** The runtime's data folder (make up's .local): its edge-secret.txt lets the seed send
       *  visitors' addresses as CloudFront forwards them. */
      dataDir,
      ingestUrl: platform.siteUrl + INGEST_PATH,
      output: platform.output,
      /** Stop everything; resolves with the platform's exit ({code, signal}). */
      async stop() {
        try {
          await browser.close().catch(() => {});
          await db.end().catch(() => {});
          platform.child.kill("SIGINT");
          const timer = setTimeout(() => platform.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
          const exit = await platform.exited;
          clearTimeout(timer);
          await dropRedisKeys(platform.python, platform.redisPrefix);
          return exit;
        } finally {
          process.removeListener("exit", orphanGuard);
          await rm(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await browser?.close().catch(() => {});
    await db?.end().catch(() => {});
    platform.child.kill("SIGKILL");
    process.removeListener("exit", orphanGuard);
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Delete the run's Redis keys (its own prefix), with the venv's redis client. */
function dropRedisKeys(python, prefix) {
  const script =
    "import sys, redis\n" +
    "r = redis.Redis.from_url(sys.argv[1])\n" +
    "keys = list(r.scan_iter(match=sys.argv[2] + '*', count=1000))\n" +
    "r.delete(*keys) if keys else None\n";
  return new Promise((resolveDrop) => {
    const child = spawn(python, ["-c", script, REDIS_URL, prefix], { stdio: "ignore" });
    child.once("exit", () => resolveDrop());
    child.once("error", () => resolveDrop());
  });
}

/**
 * Poll `query` until `done(rows)` is true; returns the rows. Fails with the last rows seen.
 */
export async function pollRows(db, query, params, done, { timeoutMs = 10_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let rows = [];
  for (;;) {
    ({ rows } = await db.query(query, params));
    if (done(rows)) return rows;
    if (Date.now() > deadline)
      throw new Error(
        `Postgres did not reach the expected state in ${timeoutMs} ms; last rows:\n` +
          JSON.stringify(rows, null, 2),
      );
    await sleep(intervalMs);
  }
}

/** Poll a condition in the page (a function evaluated there) until it is truthy. */
export async function waitInPage(page, fn, arg, timeoutMs = 10_000) {
  await page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 50 });
}

/** The tracker's ids as stored by the SDK (sdk/README.md, "Storage keys"). */
export async function trackerIds(page) {
  return page.evaluate(() => ({
    distinctId: localStorage.getItem("pulse_id"),
    sessionId: (sessionStorage.getItem("pulse_session") || "").split("|")[0],
    queue: JSON.parse(sessionStorage.getItem("pulse_queue") || "[]"),
  }));
}

/**
 * Route the page's ingest requests through the test, recording each batch: returns a list of
 * {events, sentAt, status}, in the order the page sent them. `respond(route, n, entry)` may
 * answer the n-th request itself (1-based) and return true; otherwise the request goes to the
 * platform unchanged. (Beacons sent while a page unloads bypass routing: see the page-hide
 * tests, which use `logBeacons` instead.)
 */
export async function recordBatches(page, respond) {
  const batches = [];
  await page.route("**" + INGEST_PATH, async (route) => {
    const request = route.request();
    let body = null;
    try {
      body = JSON.parse(request.postData() ?? "null");
    } catch {}
    const entry = { events: body?.events ?? [], sentAt: body?.sent_at ?? null, status: null };
    batches.push(entry);
    if (respond && (await respond(route, batches.length, entry))) return;
    try {
      const response = await route.fetch();
      entry.status = response.status();
      await route.fulfill({ response });
    } catch (error) {
      entry.status = "failed";
      await route.abort().catch(() => {});
      if (!page.isClosed()) throw error;
    }
  });
  return batches;
}

/**
 * Log every navigator.sendBeacon call of the context's pages in their localStorage
 * (`test_beacons`: [{url, ok, size}]), written synchronously so that it survives the page
 * being left or closed. The call itself is passed through unchanged.
 */
export async function logBeacons(context) {
  await context.addInitScript(() => {
    const original = navigator.sendBeacon;
    if (!original) return;
    navigator.sendBeacon = function (url, data) {
      const ok = original.call(navigator, url, data);
      try {
        const log = JSON.parse(localStorage.getItem("test_beacons") || "[]");
        log.push({ url: String(url), ok, size: data?.size ?? null });
        localStorage.setItem("test_beacons", JSON.stringify(log));
      } catch {}
      return ok;
    };
  });
}

const AXE_PATH = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** Inject axe-core into `target` (a page or frame) and fail on serious or critical violations. */
export async function assertAccessible(target, label) {
  await target.addScriptTag({ path: AXE_PATH });
  const violations = await target.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(serious, [], `${label}: serious accessibility violations`);
}
