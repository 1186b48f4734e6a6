"use client";

import { useSearchParams } from "next/navigation";
import { useState } from "react";

import { EventsTable } from "@/components/dashboard/EventsTable";
import { dateTime } from "@/components/dashboard/format";
import { Pager, useCursorPager } from "@/components/ui/Pager";
import { ErrorState, Loading, QueryState } from "@/components/ui/states";
import { useProject, useUser } from "@/hooks/queries";
import { browserTimeZone, todayIn } from "@/lib/range";

import { ProjectTopBar } from "./ProjectTopBar";
import { useProjectParams } from "./useProjectParams";

export function UserPage() {
  const { projectId, range, update } = useProjectParams();
  const distinctId = useSearchParams().get("user") ?? "";
  const [tz] = useState(browserTimeZone);
  const project = useProject(projectId);
  const pager = useCursorPager(JSON.stringify([projectId, distinctId, range, tz]));
  const user = useUser(projectId, distinctId, range, tz, pager.cursor);

  if (!projectId || !distinctId) return <ErrorState title="No user chosen" message="Open a user from a project's users table." />;
  if (project.error) return <ErrorState error={project.error} />;
  if (!project.data) return <Loading label="Loading the project" />;
  return (
    <>
      <ProjectTopBar projectId={projectId} name={project.data.name} current="user" range={range} onRange={(r) => update({ range: r })} tz={tz} today={todayIn(tz)} />
      <main className="mx-auto max-w-7xl space-y-6 px-4 py-6">
        <h1 className="break-all text-2xl font-semibold">User {distinctId}</h1>
        <QueryState query={user} label="the user">
          {(data) => (
            <>
              <section className="card" aria-labelledby="user-props">
                <h2 id="user-props" className="font-semibold">
                  Properties
                </h2>
                <dl className="mt-2 grid grid-cols-1 gap-x-6 gap-y-1 text-sm sm:grid-cols-2">
                  <dt className="text-gray-600">First seen</dt>
                  <dd>{dateTime(data.first_seen, tz)}</dd>
                  <dt className="text-gray-600">Last seen</dt>
                  <dd>{dateTime(data.last_seen, tz)}</dd>
                  <dt className="text-gray-600">Events</dt>
                  <dd>{data.event_count}</dd>
                  {Object.entries(data.properties ?? {}).map(([key, value]) => (
                    <div key={key} className="contents">
                      <dt className="text-gray-600">{key}</dt>
                      <dd className="break-all font-mono text-xs">{typeof value === "string" ? value : JSON.stringify(value)}</dd>
                    </div>
                  ))}
                </dl>
                {data.properties === null ? (
                  <p className="mt-2 text-sm text-gray-600">Anonymous: never identified.</p>
                ) : Object.keys(data.properties).length === 0 ? (
                  <p className="mt-2 text-sm text-gray-600">Identified, without properties.</p>
                ) : null}
              </section>
              <section className="card" aria-labelledby="user-events">
                <h2 id="user-events" className="font-semibold">
                  Events, newest first
                </h2>
                <EventsTable events={data.events} tz={tz} testId="user-events" />
                <Pager label="User events" page={pager.page} nextCursor={data.next_cursor} onNext={pager.next} onPrevious={pager.previous} busy={user.isFetching} />
              </section>
            </>
          )}
        </QueryState>
      </main>
    </>
  );
}
