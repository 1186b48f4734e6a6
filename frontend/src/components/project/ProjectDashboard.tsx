"use client";

import { useState } from "react";

import { BreakdownCard } from "@/components/dashboard/BreakdownCard";
import { EventFeed } from "@/components/dashboard/EventFeed";
import { EventsChart } from "@/components/dashboard/EventsChart";
import { EventsExplorer } from "@/components/dashboard/EventsExplorer";
import { ExportButtons } from "@/components/dashboard/ExportButtons";
import { FilterChips } from "@/components/dashboard/FilterChips";
import { LiveIndicator } from "@/components/dashboard/LiveIndicator";
import { MetricCards } from "@/components/dashboard/MetricCards";
import { SessionsPanel } from "@/components/dashboard/SessionsPanel";
import { TopEvents } from "@/components/dashboard/TopEvents";
import { UsersTable } from "@/components/dashboard/UsersTable";
import { VisitorsNow } from "@/components/dashboard/VisitorsNow";
import { Snippet } from "@/components/Snippet";
import { ErrorState, Loading, QueryState } from "@/components/ui/states";
import { useOverview, useProject, useTimeseries, useTopEvents } from "@/hooks/queries";
import { useLiveProject } from "@/hooks/useLiveProject";
import type { Interval } from "@/lib/analytics-types";
import { withFilter, withoutFilter } from "@/lib/filters";
import { browserTimeZone, type DateRange, defaultInterval, todayIn } from "@/lib/range";

import { ProjectTopBar } from "./ProjectTopBar";
import { useProjectParams } from "./useProjectParams";

export function ProjectDashboard() {
  const { projectId, range, event, filters, update } = useProjectParams();
  const [tz] = useState(browserTimeZone);
  const [chosenInterval, setInterval] = useState<{ range: DateRange; interval: Interval } | null>(null);
  const interval = chosenInterval?.range === range ? chosenInterval.interval : defaultInterval(range);
  const project = useProject(projectId);
  const overview = useOverview(projectId, range, tz, event, filters);
  const series = useTimeseries(projectId, range, tz, interval, event, filters);
  const top = useTopEvents(projectId, range, tz, filters);
  const live = useLiveProject(projectId);
  const today = todayIn(tz);

  if (!projectId) return <ErrorState title="No project chosen" message="Open a project from the projects list." />;
  if (project.error) return <ErrorState title="This project could not be loaded" error={project.error} onRetry={() => void project.refetch()} />;
  if (!project.data) return <Loading label="Loading the project" />;

  const noEventsEver = overview.data && overview.data.total_events === 0 && overview.data.previous.total_events === 0 && !event && filters.length === 0;
  return (
    <>
      <ProjectTopBar
        projectId={projectId}
        name={project.data.name}
        current="dashboard"
        range={range}
        onRange={(next) => update({ range: next })}
        tz={tz}
        today={today}
        status={<LiveIndicator status={live.status} />}
      />
      <main className="mx-auto max-w-7xl px-4 py-6">
        <h1 className="sr-only">{project.data.name}: dashboard</h1>
        <div className="space-y-6">
        {event && (
          <p className="flex flex-wrap items-center gap-2 text-sm" data-testid="event-filter">
            <span>
              Showing only <strong>{event}</strong>
            </span>
            <button type="button" className="btn-secondary" onClick={() => update({ event: null })}>
              Clear filter<span className="sr-only"> {event}</span>
            </button>
          </p>
        )}
        <FilterChips
          filters={filters}
          onRemove={(filter) => update({ filters: withoutFilter(filters, filter) })}
          onClear={() => update({ filters: [] })}
        />
        {noEventsEver && (
          <section className="card space-y-2" aria-labelledby="empty-title">
            <h2 id="empty-title" className="font-semibold">
              No events yet
            </h2>
            <p className="text-sm text-gray-700">Paste the snippet into your site; the first page view shows up in the live feed within a second.</p>
            <Snippet apiKey={project.data.api_key} />
          </section>
        )}
        <VisitorsNow projectId={projectId} />
        <QueryState query={overview} label="metrics">
          {(data) => <MetricCards overview={data} />}
        </QueryState>
        <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
          <div className="min-w-0 space-y-6 lg:col-span-2">
            <QueryState query={series} label="the chart">
              {(data) => <EventsChart series={data} interval={interval} onInterval={(value) => setInterval({ range, interval: value })} tz={tz} />}
            </QueryState>
            <section className="card" aria-labelledby="top-events-title">
              <h2 id="top-events-title" className="font-semibold">
                Top events
              </h2>
              <p className="mb-2 text-xs text-gray-600">Choose an event to filter the cards and the chart.</p>
              <QueryState query={top} label="top events" isEmpty={(d) => d.events.length === 0} empty="No events in this period.">
                {(data) => <TopEvents events={data.events} selected={event} onSelect={(name) => update({ event: name === event ? null : name })} />}
              </QueryState>
            </section>
          </div>
          <EventFeed live={live} tz={tz} />
        </div>
        {/* below the fold: asked for once the cards are in, so their requests do not queue
            behind these on the browser's six connections per host */}
        {overview.isPending ? null : (
          <>
            <div className="grid grid-cols-1 gap-6 md:grid-cols-3">
              {(["page", "referrer", "country"] as const).map((initial) => (
                <BreakdownCard
                  key={initial}
                  projectId={projectId}
                  range={range}
                  tz={tz}
                  filters={filters}
                  initial={initial}
                  onFilter={(filter) => update({ filters: withFilter(filters, filter) })}
                  testId={`breakdown-${initial}`}
                />
              ))}
            </div>
            <SessionsPanel projectId={projectId} range={range} tz={tz} filters={filters} />
            <UsersTable projectId={projectId} range={range} tz={tz} filters={filters} />
            <EventsExplorer projectId={projectId} range={range} tz={tz} filter={filters} />
            <ExportButtons projectId={projectId} range={range} tz={tz} filters={filters} />
          </>
        )}
        </div>
      </main>
    </>
  );
}
