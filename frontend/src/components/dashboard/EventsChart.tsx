"use client";

import dynamic from "next/dynamic";

import type { Interval, Timeseries } from "@/lib/analytics-types";

import { bucketLabel } from "./format";

// Tremor's chart sits on Recharts (~110 KB gzipped): loaded in its own chunk right after the
// page, so the cards and tables do not wait for it (docs/benchmarks.md).
const loadChart = () => import("./EventsAreaChart");
// start the download as soon as this module runs (beside config, login and the first queries),
// not when the first series arrives
if (typeof window !== "undefined") void loadChart();
const AreaChart = dynamic(loadChart, {
  ssr: false,
  loading: () => <div className="mt-3 h-64 animate-pulse rounded bg-gray-100" aria-hidden="true" />,
});

export function EventsChart({
  series,
  interval,
  onInterval,
  tz,
}: {
  series: Timeseries;
  interval: Interval;
  onInterval: (interval: Interval) => void;
  tz: string;
}) {
  const data = series.points.map((p) => ({ bucket: bucketLabel(p.bucket, series.interval, tz), Events: p.count, Sessions: p.unique_sessions }));
  const total = series.points.reduce((sum, p) => sum + p.count, 0);
  return (
    <section className="card" aria-labelledby="events-chart-title">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="events-chart-title" className="font-semibold">
          Events over time
        </h2>
        <div role="group" aria-label="Bucket size" className="inline-flex rounded-md border border-gray-300">
          {(["hour", "day"] as const).map((value) => (
            <button
              key={value}
              type="button"
              aria-pressed={interval === value}
              onClick={() => onInterval(value)}
              className={`focus-ring px-3 py-1 text-sm ${interval === value ? "bg-blue-700 text-white" : "bg-white text-gray-800"}`}
            >
              {value === "hour" ? "Hourly" : "Daily"}
            </button>
          ))}
        </div>
      </div>
      <p className="sr-only" data-testid="chart-total">
        {total} events in the chart
      </p>
      {/* our own legend: Tremor's puts a wrapper between its <ol> and <li>s (an axe "list" violation) */}
      <ul className="mt-2 flex justify-end gap-4 text-xs text-gray-700" aria-label="Legend">
        <li className="flex items-center gap-1">
          <span aria-hidden="true" className="h-2 w-2 rounded-full bg-blue-500" /> Events
        </li>
        <li className="flex items-center gap-1">
          <span aria-hidden="true" className="h-2 w-2 rounded-full bg-emerald-500" /> Sessions
        </li>
      </ul>
      <AreaChart data={data} />
      <table className="sr-only" data-testid="chart-table">
        <caption>Events per {series.interval}</caption>
        <thead>
          <tr>
            <th scope="col">Bucket</th>
            <th scope="col">Events</th>
          </tr>
        </thead>
        <tbody>
          {series.points.map((p) => (
            <tr key={p.bucket}>
              <td>{p.bucket}</td>
              <td>{p.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
