"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";

import { ProjectTopBar } from "@/components/project/ProjectTopBar";
import { useProjectParams } from "@/components/project/useProjectParams";
import { ErrorState, Loading, QueryState } from "@/components/ui/states";
import { useProject } from "@/hooks/queries";
import { useRetention } from "@/hooks/useFunnels";
import type { RetentionPeriod } from "@/lib/funnels-api";
import { browserTimeZone, todayIn } from "@/lib/range";

import { RetentionTable } from "./RetentionTable";

/** Cohorts by first-seen day or week over the range; the period and return event are in the URL. */
export function RetentionPage() {
  const { projectId, range, update } = useProjectParams();
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const period: RetentionPeriod = params.get("period") === "week" ? "week" : "day";
  const returnEvent = params.get("return_event") || null;
  const [eventInput, setEventInput] = useState(returnEvent ?? "");
  const [tz] = useState(browserTimeZone);
  const project = useProject(projectId);
  const retention = useRetention(projectId, range, tz, period, returnEvent);

  const set = (name: string, value: string | null) => {
    const next = new URLSearchParams(params.toString());
    if (value) next.set(name, value);
    else next.delete(name);
    router.replace(`${pathname}?${next.toString()}`, { scroll: false });
  };

  if (!projectId) return <ErrorState title="No project chosen" message="Open a project from the projects list." />;
  if (project.error) return <ErrorState error={project.error} />;
  if (!project.data) return <Loading label="Loading the project" />;
  return (
    <>
      <ProjectTopBar projectId={projectId} name={project.data.name} current="retention" range={range} onRange={(r) => update({ range: r })} tz={tz} today={todayIn(tz)} />
      <main className="mx-auto max-w-7xl space-y-6 px-4 py-6">
        <h1 className="text-2xl font-semibold">Retention</h1>
        <section className="card space-y-4" aria-labelledby="retention-title">
          <div className="flex flex-wrap items-end justify-between gap-4">
            <h2 id="retention-title" className="font-semibold">
              Users by first-seen {period}, and the share who came back
            </h2>
            <div className="flex flex-wrap items-end gap-3">
              <div role="group" aria-label="Cohort period" className="inline-flex rounded-md border border-gray-300">
                {(["day", "week"] as const).map((value) => (
                  <button
                    key={value}
                    type="button"
                    aria-pressed={period === value}
                    onClick={() => set("period", value === "day" ? null : value)}
                    className={`focus-ring px-3 py-1 text-sm ${period === value ? "bg-blue-700 text-white" : "bg-white text-gray-800"}`}
                  >
                    {value === "day" ? "Daily" : "Weekly"}
                  </button>
                ))}
              </div>
              <form
                className="flex items-end gap-2"
                onSubmit={(e) => {
                  e.preventDefault();
                  set("return_event", eventInput.trim() || null);
                }}
              >
                <label className="text-sm">
                  <span className="block font-medium">Returning with event (optional)</span>
                  <input className="input" value={eventInput} placeholder="any event" onChange={(e) => setEventInput(e.target.value)} />
                </label>
                <button type="submit" className="btn-secondary">
                  Apply
                </button>
              </form>
            </div>
          </div>
          <QueryState query={retention} label="retention" isEmpty={(d) => d.cohorts.every((c) => c.size === 0)} empty="No new users in this period.">
            {(data) => <RetentionTable data={data} tz={tz} />}
          </QueryState>
          <p className="text-xs text-gray-600">
            A user is a distinct id; their cohort is the {period} of their first event ever in this project. The first and last {period}s are cut to the range.
          </p>
        </section>
      </main>
    </>
  );
}
