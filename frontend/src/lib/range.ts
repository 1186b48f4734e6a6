// The dashboard's date range and time zone, turned into the API's query (docs/api.md,
// "Analytics"): a preset `range`, or `from`/`to` without an offset, which the API reads in `tz`.

import type { Interval } from "./analytics-types";

export const PRESETS = ["24h", "7d", "30d", "90d"] as const;
export type Preset = (typeof PRESETS)[number];

export type DateRange = { preset: Preset } | { preset: "custom"; from: string; to: string }; // days, YYYY-MM-DD, `to` inclusive

export interface RangeQuery {
  range?: Preset;
  from?: string;
  to?: string;
  tz: string;
}

export const DEFAULT_RANGE: DateRange = { preset: "7d" };
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The browser's IANA time zone ("Europe/Paris"), UTC when it cannot tell. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

export function rangeQuery(range: DateRange, tz: string): RangeQuery {
  if (range.preset !== "custom") return { range: range.preset, tz };
  // whole days in tz: [from 00:00, the day after `to` 00:00)
  return { from: `${range.from}T00:00:00`, to: `${nextDay(range.to)}T00:00:00`, tz };
}

/** A custom range's problem, or null when it can be asked for. */
export function customRangeError(from: string, to: string): string | null {
  if (!DAY.test(from) || !DAY.test(to)) return "Pick both days";
  if (from > to) return "The start must not be after the end";
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  if (days > 400) return "At most 400 days";
  return null;
}

/** The chart's default bucket: hours for a day or two, days beyond. */
export function defaultInterval(range: DateRange): Interval {
  if (range.preset === "24h") return "hour";
  if (range.preset === "custom") return range.from === range.to || nextDay(range.from) === range.to ? "hour" : "day";
  return "day";
}

/** Whether the range runs up to now, so that live events belong in it. */
export function rangeIsLive(range: DateRange, today: string): boolean {
  return range.preset !== "custom" || range.to >= today;
}

/** Today's date in tz as YYYY-MM-DD. */
export function todayIn(tz: string, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
  return parts; // en-CA formats as YYYY-MM-DD
}

/** Read the range from the page's query string (?range=7d, or ?from=…&to=…). */
export function rangeFromSearch(params: URLSearchParams): DateRange {
  const preset = params.get("range");
  if ((PRESETS as readonly string[]).includes(preset ?? "")) return { preset: preset as Preset };
  const from = params.get("from");
  const to = params.get("to");
  if (from && to && !customRangeError(from, to)) return { preset: "custom", from, to };
  return DEFAULT_RANGE;
}

export function rangeToSearch(range: DateRange): Record<string, string> {
  return range.preset === "custom" ? { from: range.from, to: range.to } : { range: range.preset };
}

export function rangeLabel(range: DateRange): string {
  switch (range.preset) {
    case "24h":
      return "Last 24 hours";
    case "7d":
      return "Last 7 days";
    case "30d":
      return "Last 30 days";
    case "90d":
      return "Last 90 days";
    default:
      return `${range.from} – ${range.to}`;
  }
}
