"use client";

import { useId, useState } from "react";

import { useCsvExport } from "@/hooks/queries";
import type { CsvReport } from "@/lib/api";
import { errorMessage } from "@/lib/errors";
import type { DateRange } from "@/lib/range";

const REPORTS: { value: CsvReport; label: string; raw?: boolean }[] = [
  { value: "overview", label: "Overview (cards)" },
  { value: "timeseries", label: "Events over time" },
  { value: "top-events", label: "Top events" },
  { value: "pages", label: "Top pages" },
  { value: "referrers", label: "Top referrers" },
  { value: "utm-sources", label: "Top UTM sources" },
  { value: "sessions", label: "Sessions (all of the period)", raw: true },
  { value: "users", label: "Users (all of the period)", raw: true },
];

/** Download the period's reports as CSV, with the dashboard's `filters`, and every raw event of
 *  the period (`raw`: whether the viewer may read raw data). */
export function ExportButtons({
  projectId,
  range,
  tz,
  raw = true,
  filters = [],
}: {
  projectId: string;
  range: DateRange;
  tz: string;
  raw?: boolean;
  filters?: string[];
}) {
  const id = useId();
  const [report, setReport] = useState<CsvReport>("overview");
  const exporter = useCsvExport(projectId, range, tz, filters);
  return (
    <section className="card space-y-2" aria-labelledby={`${id}-title`} data-testid="export">
      <h2 id={`${id}-title`} className="font-semibold">
        Export CSV
      </h2>
      <div className="flex flex-wrap items-end gap-2">
        <div>
          <label htmlFor={`${id}-report`} className="block text-xs text-gray-600">
            Report
          </label>
          <select id={`${id}-report`} className="input w-auto" value={report} onChange={(e) => setReport(e.target.value as CsvReport)}>
            {REPORTS.filter((r) => raw || !r.raw).map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="btn-secondary" disabled={exporter.isPending} onClick={() => exporter.mutate(report)}>
          Download CSV
        </button>
        {raw && (
          <button type="button" className="btn-secondary" disabled={exporter.isPending} onClick={() => exporter.mutate("raw-events")}>
            Download all raw events
          </button>
        )}
        <span aria-live="polite" className="text-sm text-gray-600">
          {exporter.isPending ? "Preparing the file…" : ""}
        </span>
      </div>
      {exporter.error && (
        <p role="alert" className="text-sm text-red-700">
          {errorMessage(exporter.error)}
        </p>
      )}
    </section>
  );
}
