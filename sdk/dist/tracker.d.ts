// Types for the Pulse browser tracker (window.tracker), loaded from /sdk/tracker.min.js.
// Reference it with `/// <reference path="tracker.d.ts" />` or add it to your tsconfig "files".

/** A JSON-serialisable value: event properties are sent as JSON. */
export type PulseValue = string | number | boolean | null | PulseValue[] | { [key: string]: PulseValue };

/** Event properties or user traits. */
export type PulseProperties = { [key: string]: PulseValue | undefined };

/** The public API. Every method is safe to call at any time: it never throws, and does nothing
 * when tracking is disabled (Do Not Track, `pulse_opt_out`, automated browser, no data-project). */
export interface PulseTracker {
  /** Records a custom event, e.g. `tracker.event("button_click", { button_id: "signup" })`. */
  event(name: string, properties?: PulseProperties): void;
  /** Sets the distinct id of this browser (kept in localStorage) and sends an `$identify` event
   * whose properties are `traits`. Later events carry `id` as their distinct_id. */
  identify(id: string | number, traits?: PulseProperties): void;
  /** Forgets the identity: a new anonymous distinct id and a new session (call it on logout). */
  reset(): void;
  /** Sends the queued events now instead of waiting for the 2 s batch timer. */
  flush(): void;
}

/** The pre-load stub: records calls in `q` until the script replaces it and replays them. */
export interface PulseStub {
  q: Array<[keyof PulseTracker, IArguments | unknown[]]>;
}

/** One event as sent to the ingest API. */
export interface PulseEvent {
  event: string;
  properties: PulseProperties;
  distinct_id: string;
  session_id: string;
  page_url: string;
  referrer: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  /** UUID v4, kept across retries so that the server can drop duplicates. */
  uuid: string;
}

/** The request body, POSTed as text/plain to the ingest URL. */
export interface PulseBatch {
  api_key: string;
  events: PulseEvent[];
  /** ISO 8601, UTC: when this request was sent. */
  sent_at: string;
}

declare global {
  interface Window {
    tracker: PulseTracker & Partial<PulseStub>;
  }
  var tracker: PulseTracker & Partial<PulseStub>;
}
