/*
 * Pulse tracker: the browser SDK of the Pulse analytics platform.
 *
 * Loaded with
 *   <script src="https://<host>/sdk/tracker.min.js" data-project="proj_..." defer></script>
 * it exposes window.tracker = { event, identify, reset, flush } (see tracker.d.ts and README.md).
 *
 * Written for size: `build.mjs` minifies this file with terser and the result must stay under
 * 1,500 bytes gzipped, so repeated strings live in variables and there are no classes.
 * Nothing here may throw into the host page: every entry point goes through `safe`.
 */
((w, d) => {
  var nav = navigator,
    loc = location,
    PREFIX = "pulse_",
    QUEUE = "queue", // sessionStorage: events not yet acknowledged by the server (JSON array)
    SESSION = "session", // sessionStorage: "<session id>|<last activity ms>"
    ID = "id", // localStorage: distinct id (anonymous "anon_..." or the identified user id)
    LIMIT = 6e4, // bytes of events per request: fetch keepalive / sendBeacon allow 64 KB in total
    IDLE = 18e5, // a session ends after 30 minutes without events
    memory = {}, // storage fallback when localStorage / sessionStorage are unavailable
    queued = [], // events waiting for the next send
    pending = [], // events not yet acknowledged (queued, in flight or waiting for a retry)
    off = 1, // disabled until the configuration has been read
    previous = w.tracker, // the stub (with its call queue `q`) or an already running tracker
    script = d.currentScript, // this <script> tag, while it runs
    config = script?.dataset || {}, // data-* attributes of the script tag
    apiKey = config.project,
    endpoint,
    timer,
    lastUrl,
    referrer = d.referrer,
    json = (value) => JSON.stringify(value),
    bytes = (text) => new Blob([text]).size,
    isoDate = (ms = Date.now()) => new Date(ms).toISOString(),
    // wraps an entry point: does nothing while disabled and never lets an error reach the page
    safe =
      (fn) =>
      (...args) => {
        try {
          if (!off) return fn(...args);
        } catch {}
      },
    // get (value == null) or set one key of localStorage (local truthy) or sessionStorage,
    // through the named properties of Storage. Values are also kept in memory, which answers
    // when storage is blocked (throws) or full (the value could not be written).
    store = (local, key, value, storage) => {
      key = PREFIX + key;
      try {
        storage = local ? localStorage : sessionStorage;
        if (value == null) return storage[key] ?? memory[key];
        storage[key] = value;
      } catch {}
      return value == null ? memory[key] : (memory[key] = value);
    },
    // crypto.randomUUID only exists in secure contexts; elsewhere build a v4 UUID from
    // crypto.getRandomValues (each x a random hex digit; "8" is a valid RFC 4122 variant digit)
    uuid = (crypto = w.crypto) =>
      crypto.randomUUID?.() ||
      "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx".replace(/x/g, () =>
        (crypto.getRandomValues(new Uint8Array(1))[0] & 15).toString(16),
      ),
    anonymous = () => store(1, ID, "anon_" + uuid()),
    savePending = () => store(0, QUEUE, json(pending)),
    acknowledge = (batch) => {
      pending = pending.filter((event) => batch.indexOf(event) < 0);
      savePending();
    },
    // attempt: 0, 1 or 2 (three attempts in total), sent as "retry" so that the API looks a
    // resend's uuids up; beacon: try navigator.sendBeacon first
    send = safe((batch, attempt, beacon) => {
      var body = new Blob([json({ api_key: apiKey, events: batch, sent_at: isoDate(), retry: attempt })], {
        type: "text/plain",
      });
      if (beacon && nav.sendBeacon?.(endpoint, body)) return acknowledge(batch);
      fetch(endpoint, { method: "POST", body: body, keepalive: true })
        // a network failure counts as a 5xx
        .then((response) => response.status, () => 500)
        .then((status) =>
          // retry 429 and 5xx after 1-2 s, then 2-3 s; acknowledge 2xx, drop any other status
          (status == 429 || status > 499) && attempt < 2
            ? setTimeout(send, ((1 << attempt) + Math.random()) * 1e3, batch, attempt + 1)
            : acknowledge(batch),
        );
    }),
    flush = (beacon, batch = [], size = 0) => {
      clearTimeout(timer);
      timer = 0;
      queued.forEach((event) => {
        var length = bytes(json(event)) + 1;
        if (size + length > LIMIT) {
          send(batch, 0, beacon);
          batch = [];
          size = 0;
        }
        batch.push(event);
        size += length;
      });
      queued = [];
      if (batch[0]) send(batch, 0, beacon);
    },
    track = (name, properties) => {
      var now = Date.now(),
        session = (store(0, SESSION) + "").split("|"),
        event;
      if (!(now - session[1] < IDLE)) session[0] = uuid();
      store(0, SESSION, session[0] + "|" + now);
      event = {
        event: "" + name,
        properties: { ...properties }, // a copy: later changes by the page do not leak in
        distinct_id: store(1, ID) || anonymous(),
        session_id: session[0],
        page_url: loc.href,
        referrer: referrer,
        timestamp: isoDate(now),
        uuid: uuid(),
      };
      // an event too large for a keepalive request could never be delivered: drop it
      if (bytes(json(event)) < LIMIT) {
        queued.push(event);
        pending.push(event);
        savePending();
        if (queued.length > 9) flush();
        else timer = timer || setTimeout(tracker.flush, 2e3);
      }
    },
    pageView = () => {
      var href = loc.href,
        properties;
      if (href != lastUrl) {
        if (lastUrl) referrer = lastUrl;
        lastUrl = href;
        properties = {
          path: loc.pathname,
          title: d.title,
          referrer: referrer,
          screen: screen.width + "x" + screen.height,
          language: nav.language,
        };
        for (var [key, value] of new URLSearchParams(loc.search))
          if (/^utm_(source|medium|campaign|term|content)$/.test(key)) properties[key] = value;
        track("page_view", properties);
      }
    },
    tracker = {
      event: safe(track),
      identify: safe((id, traits) => {
        if (id != null && (id += "")) {
          store(1, ID, id);
          track("$identify", traits);
        }
      }),
      reset: safe(() => {
        anonymous();
        store(0, SESSION, "-"); // no timestamp: the next event starts a new session
      }),
      flush: safe(flush), // flush(x) with x truthy uses sendBeacon: harmless
    },
    leave = safe(() => flush(1)),
    spa = safe(pageView);

  // loaded twice: keep the tracker that is already running
  if (previous?.flush && !previous.q) return;
  w.tracker = tracker;
  try {
    off =
      !apiKey ||
      (nav.doNotTrack || w.doNotTrack) == "1" ||
      store(1, "opt_out") == "1" ||
      (nav.webdriver && config.allowAutomation == null);
    if (off) return;
    endpoint = config.api || new URL("/api/v1/events/ingest", script.src || loc.href).href;

    // events left unacknowledged by the previous page of this tab: resend them with their uuids
    try {
      pending = JSON.parse(store(0, QUEUE)) || [];
    } catch {}
    queued = pending.slice();
    flush();

    ["pushState", "replaceState"].forEach((method) => {
      var original = history[method];
      history[method] = function () {
        var result = original.apply(this, arguments);
        spa();
        return result;
      };
    });
    w.addEventListener("popstate", spa);
    w.addEventListener("pagehide", leave);
    d.addEventListener("visibilitychange", () => d.hidden && leave());
    pageView();
    // calls made through the stub before this script loaded, in their original order
    (previous?.q || []).forEach(safe((call) => tracker[call[0]](...call[1])));
  } catch {
    off = 1;
  }
})(window, document);
