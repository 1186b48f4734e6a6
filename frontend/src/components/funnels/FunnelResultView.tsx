"use client";

import dynamic from "next/dynamic";

import { duration, number } from "@/components/dashboard/format";
import type { FunnelResult, FunnelStep } from "@/lib/funnels-api";

// Recharts in its own chunk, as the dashboard's chart (EventsChart).
const BarChart = dynamic(() => import("./FunnelBarChart"), {
  ssr: false,
  loading: () => <div className="mt-3 h-64 animate-pulse rounded bg-gray-100" aria-hidden="true" />,
});

const percent = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });

export function stepLabel(step: FunnelStep, i: number): string {
  const parts = [step.event];
  if (step.page) parts.push(`on ${step.page}`);
  if (step.property) parts.push(`${step.property.key} = ${step.property.value}`);
  return `${i + 1}. ${parts.join(" ")}`;
}

/** The funnel's steps as a bar chart, and their conversion, drop-off and median times as a table. */
export function FunnelResultView({ result }: { result: FunnelResult }) {
  const unit = result.by === "session" ? "Sessions" : "Users";
  const data = result.steps.map((s, i) => ({ step: stepLabel(s.step, i), Reached: s.count }));
  const last = result.steps[result.steps.length - 1];
  return (
    <section className="card" aria-labelledby="funnel-result-title">
      <h2 id="funnel-result-title" className="font-semibold">
        {unit} through the funnel
      </h2>
      <p className="text-sm text-gray-600" data-testid="funnel-summary">
        {percent.format(last.conversion_from_first)} of {number.format(result.steps[0].count)} {unit.toLowerCase()} converted, within {result.window} of the first step
      </p>
      <BarChart data={data} />
      <div className="mt-4 overflow-x-auto">
        <table className="w-full text-left text-sm" data-testid="funnel-steps">
          <caption className="sr-only">Funnel steps</caption>
          <thead className="text-gray-600">
            <tr>
              <th scope="col" className="py-1 pr-3">Step</th>
              <th scope="col" className="py-1 pr-3 text-right">{unit}</th>
              <th scope="col" className="py-1 pr-3 text-right">From first</th>
              <th scope="col" className="py-1 pr-3 text-right">From previous</th>
              <th scope="col" className="py-1 pr-3 text-right">Dropped</th>
              <th scope="col" className="py-1 text-right">Median time</th>
            </tr>
          </thead>
          <tbody>
            {result.steps.map((s, i) => (
              <tr key={i} className="border-t border-gray-100" data-testid="funnel-step-row">
                <th scope="row" className="py-1 pr-3 font-normal">{stepLabel(s.step, i)}</th>
                <td className="py-1 pr-3 text-right tabular-nums">{number.format(s.count)}</td>
                <td className="py-1 pr-3 text-right tabular-nums">{percent.format(s.conversion_from_first)}</td>
                <td className="py-1 pr-3 text-right tabular-nums">{i === 0 ? "—" : percent.format(s.conversion_from_previous)}</td>
                <td className="py-1 pr-3 text-right tabular-nums">{i === 0 ? "—" : number.format(s.drop_off)}</td>
                <td className="py-1 text-right tabular-nums">{s.median_seconds_from_previous == null ? "—" : duration(s.median_seconds_from_previous)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
