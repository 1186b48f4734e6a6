"use client";

import { useState } from "react";

import { BreakdownTable } from "@/components/dashboard/Breakdown";
import { EventsChart } from "@/components/dashboard/EventsChart";
import { EventsExplorer } from "@/components/dashboard/EventsExplorer";
import { ExportButtons } from "@/components/dashboard/ExportButtons";
import { MetricCards } from "@/components/dashboard/MetricCards";
import { RangePicker } from "@/components/dashboard/RangePicker";
import { SessionsPanel } from "@/components/dashboard/SessionsPanel";
import { TopEvents } from "@/components/dashboard/TopEvents";
import { VisitorsNow } from "@/components/dashboard/VisitorsNow";
import { QueryState } from "@/components/ui/states";
import { useBreakdown, useOverview, useTimeseries, useTopEvents } from "@/hooks/queries";
import { useLiveVisitors } from "@/hooks/useLiveVisitors";
import type { Interval } from "@/lib/analytics-types";
import type { Dimension } from "@/lib/filters";
import { browserTimeZone, DEFAULT_RANGE, type DateRange, defaultInterval, todayIn } from "@/lib/range";
import type { ShareOpened } from "@/lib/share";
import type { TokenSource } from "@/lib/ws";

// Visitors now comes pushed on the WebSocket API (a share session's connection gets visitors now
// and nothing else); while that connection is not live, it is asked for every 15 s instead.
const VISITORS_POLL_MS = 15_000;

// The breakdowns a share view shows, by their test id (the dashboard's first three reports).
const SHARED_BREAKDOWNS: { kind: string; dimension: Dimension; title: string }[] = [
  { kind: "pages", dimension: "page", title: "Pages" },
  { kind: "referrers", dimension: "referrer", title: "Referrers" },
  { kind: "utm-sources", dimension: "utm_source", title: "UTM sources" },
];

function SharedBreakdown({ projectId, kind, dimension, title, range, tz }: { projectId: string; kind: string; dimension: Dimension; title: string; range: DateRange; tz: string }) {
  const query = useBreakdown(projectId, { dimension }, range, tz);
  const heading = `Top ${kind === "utm-sources" ? "UTM sources" : title.toLowerCase()}`;
  return (
    <section className="card" aria-label={heading}>
      <h2 className="font-semibold">{heading}</h2>
      <QueryState query={query} label={heading.toLowerCase()} isEmpty={(d) => d.items.length === 0} empty="No page views in this period.">
        {(data) => <BreakdownTable title={title} data={data} testId={`breakdown-${kind}`} />}
      </QueryState>
    </section>
  );
}

/** The project's reports, read-only: no settings, key, project list or live event feed (visitors
 *  now is live); the sessions, the events (with their properties) and the raw data's export only
 *  when the link allows it. */
export function SharedDashboard({ opened, share }: { opened: ShareOpened; share: TokenSource }) {
  const projectId = opened.project_id;
  const live = useLiveVisitors(projectId, share);
  const [tz] = useState(browserTimeZone);
  const [range, setRange] = useState<DateRange>(DEFAULT_RANGE);
  const [event, setEvent] = useState<string | null>(null);
  const [chosen, setChosen] = useState<{ range: DateRange; interval: Interval } | null>(null);
  const interval = chosen?.range === range ? chosen.interval : defaultInterval(range);
  const overview = useOverview(projectId, range, tz, event);
  const series = useTimeseries(projectId, range, tz, interval, event);
  const top = useTopEvents(projectId, range, tz);
  const today = todayIn(tz);

  return (
    <>
      <header className="border-b border-gray-200 bg-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-end justify-between gap-3 px-4 py-3">
          <div>
            <p className="text-xs uppercase tracking-wide text-gray-600">Shared dashboard · read-only</p>
            <p className="text-lg font-semibold" data-testid="shared-project-name">
              {opened.project_name}
            </p>
          </div>
          <RangePicker value={range} onChange={setRange} today={today} />
        </div>
      </header>
      <main className="mx-auto max-w-7xl space-y-6 px-4 py-6">
        <h1 className="sr-only">{opened.project_name}: shared dashboard</h1>
        {event && (
          <p className="flex flex-wrap items-center gap-2 text-sm" data-testid="event-filter">
            <span>
              Showing only <strong>{event}</strong>
            </span>
            <button type="button" className="btn-secondary" onClick={() => setEvent(null)}>
              Clear filter<span className="sr-only"> {event}</span>
            </button>
          </p>
        )}
        <VisitorsNow projectId={projectId} pollMs={live === "live" ? false : VISITORS_POLL_MS} />
        <QueryState query={overview} label="metrics">
          {(data) => <MetricCards overview={data} />}
        </QueryState>
        <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
          <div className="min-w-0 lg:col-span-2">
            <QueryState query={series} label="the chart">
              {(data) => <EventsChart series={data} interval={interval} onInterval={(value) => setChosen({ range, interval: value })} tz={tz} />}
            </QueryState>
          </div>
          <section className="card" aria-labelledby="top-events-title">
            <h2 id="top-events-title" className="font-semibold">
              Top events
            </h2>
            <QueryState query={top} label="top events" isEmpty={(d) => d.events.length === 0} empty="No events in this period.">
              {(data) => <TopEvents events={data.events} selected={event} onSelect={(name) => setEvent(name === event ? null : name)} />}
            </QueryState>
          </section>
        </div>
        <div className="grid grid-cols-1 gap-6 md:grid-cols-3">
          {SHARED_BREAKDOWNS.map((b) => (
            <SharedBreakdown key={b.kind} projectId={projectId} kind={b.kind} dimension={b.dimension} title={b.title} range={range} tz={tz} />
          ))}
        </div>
        {opened.allow_raw && (
          <>
            <SessionsPanel projectId={projectId} range={range} tz={tz} />
            <EventsExplorer projectId={projectId} range={range} tz={tz} />
          </>
        )}
        <ExportButtons projectId={projectId} range={range} tz={tz} raw={opened.allow_raw} />
      </main>
    </>
  );
}
