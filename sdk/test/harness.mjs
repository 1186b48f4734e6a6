// Test harness: runs the tracker in a jsdom window with a fake clock, a recording fetch and a
// recording navigator.sendBeacon. Not a test file itself (package.json runs test/*.test.mjs).
import { readFileSync } from "node:fs";
import { setImmediate } from "node:timers/promises";
import { JSDOM } from "jsdom";
import { SOURCE, minify } from "../build.mjs";

export const source = readFileSync(SOURCE, "utf8");
export const minified = await minify(source);

/** Each behaviour suite runs against the readable source and the shipped, minified code. */
export const variants = [
  ["source", source],
  ["minified", minified],
];

export const START = Date.UTC(2025, 0, 15, 12, 0, 0);
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

// Exactly the snippet documented in README.md (a test checks that it is there verbatim).
export const STUB =
  'window.tracker=window.tracker||{q:[]};\n"event identify reset flush".split(" ").forEach(function(m){tracker[m]=tracker[m]||function(){tracker.q.push([m,arguments])}});';

const drain = async () => {
  for (let i = 0; i < 3; i++) await setImmediate();
};

/**
 * Opens a page and runs the tracker in it.
 *
 * options:
 *   url, referrer, title           page location, document.referrer, <title>
 *   attrs                          attributes of the <script> tag (data-project defaults to proj_test)
 *   src                            src of the <script> tag
 *   local, session                 initial localStorage / sessionStorage contents ({key: value})
 *   statuses                       HTTP statuses answered by fetch, in order (then 202);
 *                                  "error" rejects like a network failure, "hang" never settles
 *   beacon                         return value of sendBeacon (false: refuse), null: no sendBeacon
 *   now                            initial fake time (ms)
 *   before(window)                 runs before the tracker, e.g. the stub and early calls
 */
export async function open(code, options = {}) {
  const attrs = { "data-project": "proj_test", ...options.attrs };
  const attrText = Object.entries(attrs)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => (value === true ? name : `${name}="${value}"`))
    .join(" ");
  const src = options.src ?? "https://cdn.pulse.test/sdk/tracker.min.js";
  const html =
    `<!doctype html><html><head><title>${options.title ?? "Home"}</title>` +
    `<script src="${src}" ${attrText}></script></head><body></body></html>`;
  const dom = new JSDOM(html, {
    url: options.url ?? "https://shop.example/",
    referrer: options.referrer,
    runScripts: "outside-only",
  });
  const window = dom.window;
  const page = {
    window,
    dom,
    code,
    options,
    requests: [],
    timers: new Map(),
    now: options.now ?? START,
    hidden: false,
    statuses: [...(options.statuses ?? [])],
  };

  // fake clock: the tracker's timers and Date.now() only move when the test advances time
  let nextId = 1;
  window.setTimeout = (fn, ms = 0, ...args) => {
    const id = nextId++;
    page.timers.set(id, { at: page.now + Math.max(0, Number(ms) || 0), fn: () => fn(...args) });
    return id;
  };
  window.clearTimeout = (id) => page.timers.delete(id);
  window.Date.now = () => page.now;

  // Blob that remembers its text, so request bodies can be read synchronously
  class RecordingBlob extends window.Blob {
    constructor(parts = [], init) {
      super(parts, init);
      this.recordedText = parts.map(String).join("");
    }
  }
  window.Blob = RecordingBlob;

  const record = (via, url, blob, init) => {
    const request = { via, url, init, blob, text: blob.recordedText, body: JSON.parse(blob.recordedText) };
    page.requests.push(request);
    return request;
  };
  window.fetch = (url, init) => {
    record("fetch", url, init.body, init);
    const status = page.statuses.length ? page.statuses.shift() : 202;
    if (status === "hang") return new Promise(() => {});
    if (status === "error") return Promise.reject(new TypeError("Failed to fetch"));
    return Promise.resolve({ status, ok: status >= 200 && status < 300 });
  };
  if (options.beacon !== null) {
    window.navigator.sendBeacon = (url, blob) => {
      if (options.beacon === false) return false;
      record("beacon", url, blob);
      return true;
    };
  }
  Object.defineProperty(window.document, "hidden", { configurable: true, get: () => page.hidden });
  Object.defineProperty(window.screen, "width", { configurable: true, value: 1920 });
  Object.defineProperty(window.screen, "height", { configurable: true, value: 1080 });

  for (const [key, value] of Object.entries(options.local ?? {})) window.localStorage.setItem(key, value);
  for (const [key, value] of Object.entries(options.session ?? {})) window.sessionStorage.setItem(key, value);

  options.before?.(window);
  // as in a browser, document.currentScript is the tracker's <script> tag while it runs
  const tag = window.document.querySelector("script[src]");
  Object.defineProperty(window.document, "currentScript", { configurable: true, get: () => tag });
  window.eval(code);
  Object.defineProperty(window.document, "currentScript", { configurable: true, get: () => null });
  await drain();

  /** Moves the fake clock forward by ms, running due timers in order. */
  page.advance = async (ms) => {
    const end = page.now + ms;
    await drain();
    for (;;) {
      let due;
      for (const [id, timer] of page.timers) if (timer.at <= end && (!due || timer.at < due[1].at)) due = [id, timer];
      if (!due) break;
      page.timers.delete(due[0]);
      page.now = due[1].at;
      due[1].fn();
      await drain();
    }
    page.now = end;
    await drain();
  };
  /** All events sent so far, in order. */
  page.events = () => page.requests.flatMap((request) => request.body.events);
  page.names = () => page.events().map((event) => event.event);
  page.storage = (kind) => {
    const storage = kind === "local" ? window.localStorage : window.sessionStorage;
    const out = {};
    for (let i = 0; i < storage.length; i++) out[storage.key(i)] = storage.getItem(storage.key(i));
    return out;
  };
  page.pendingStored = () => JSON.parse(window.sessionStorage.getItem("pulse_queue") ?? "[]");
  /** Opens the same URL again in a new window, keeping localStorage and sessionStorage. */
  page.reload = (more = {}) =>
    open(code, {
      ...options,
      now: page.now,
      local: page.storage("local"),
      session: page.storage("session"),
      statuses: [],
      before: undefined,
      ...more,
    });
  page.hide = () => {
    page.hidden = true;
    window.document.dispatchEvent(new window.Event("visibilitychange"));
  };
  return page;
}
