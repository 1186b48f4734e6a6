"use client";

import { Pager, useCursorPager } from "@/components/ui/Pager";
import { QueryState } from "@/components/ui/states";
import { useSessions } from "@/hooks/queries";
import type { DateRange } from "@/lib/range";

import { dateTime, duration, number } from "./format";

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div>
      <dt className="text-xs text-gray-600">{label}</dt>
      <dd className="text-xl font-semibold tabular-nums" data-testid={testId}>
        {value}
      </dd>
    </div>
  );
}

export function SessionsPanel({ projectId, range, tz, filters = [] }: { projectId: string; range: DateRange; tz: string; filters?: string[] }) {
  const pager = useCursorPager(JSON.stringify([projectId, range, tz, filters]));
  const sessions = useSessions(projectId, range, tz, pager.cursor, filters);
  return (
    <section className="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title" className="font-semibold">
        Sessions
      </h2>
      <QueryState query={sessions} label="sessions">
        {(data) => (
          <>
            <dl className="mt-2 grid grid-cols-2 gap-3 sm:grid-cols-4">
              <Stat label="Sessions" value={number.format(data.sessions)} testId="sessions-count" />
              <Stat label="Average duration" value={duration(data.avg_duration_s)} testId="sessions-duration" />
              <Stat label="Bounce rate" value={`${(data.bounce_rate * 100).toFixed(1)}%`} testId="sessions-bounce" />
              <Stat label="Pages per session" value={data.pages_per_session.toFixed(2)} testId="sessions-pages" />
            </dl>
            {data.top_entry_pages.length > 0 && (
              <p className="mt-2 text-sm text-gray-700">
                <span className="font-medium">Entry pages: </span>
                {data.top_entry_pages.map((p) => `${p.path} (${p.sessions})`).join(", ")}
              </p>
            )}
            <div className="focus-ring mt-3 overflow-x-auto" role="region" aria-label="Sessions table" tabIndex={0}>
              <table className="table-base" data-testid="sessions-table">
                <caption className="sr-only">Sessions, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Started</th>
                    <th scope="col">Duration</th>
                    <th scope="col">Events</th>
                    <th scope="col">Pages</th>
                    <th scope="col">User</th>
                    <th scope="col">Entry page</th>
                  </tr>
                </thead>
                <tbody>
                  {data.list.map((s) => (
                    <tr key={s.session_id}>
                      <td className="whitespace-nowrap">{dateTime(s.started_at, tz)}</td>
                      <td>{duration(s.duration_s)}</td>
                      <td className="tabular-nums">{s.events}</td>
                      <td className="tabular-nums">{s.page_views}</td>
                      <td className="max-w-[10rem] truncate">{s.distinct_id ?? "—"}</td>
                      <td className="max-w-[12rem] truncate">{s.entry_page ?? "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Sessions" page={pager.page} nextCursor={data.next_cursor} onNext={pager.next} onPrevious={pager.previous} busy={sessions.isFetching} />
          </>
        )}
      </QueryState>
    </section>
  );
}
