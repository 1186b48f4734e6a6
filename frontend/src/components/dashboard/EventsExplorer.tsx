"use client";

import { type FormEvent, useState } from "react";

import { Field } from "@/components/ui/Field";
import { Pager, useCursorPager } from "@/components/ui/Pager";
import { QueryState } from "@/components/ui/states";
import { useEvents } from "@/hooks/queries";
import type { EventFilters } from "@/lib/api";
import type { DateRange } from "@/lib/range";

import { EventsTable } from "./EventsTable";

export function EventsExplorer({ projectId, range, tz, filter = [] }: { projectId: string; range: DateRange; tz: string; filter?: string[] }) {
  const [draft, setDraft] = useState<Required<EventFilters>>({ event: "", distinct_id: "", session_id: "" });
  const [filters, setFilters] = useState<EventFilters>({});
  const pager = useCursorPager(JSON.stringify([projectId, range, tz, filters, filter]));
  const events = useEvents(projectId, range, tz, filters, pager.cursor, filter);

  function apply(event: FormEvent) {
    event.preventDefault();
    setFilters(
      Object.fromEntries(Object.entries(draft).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v)) as EventFilters,
    );
  }

  return (
    <section className="card" aria-labelledby="explorer-title">
      <h2 id="explorer-title" className="font-semibold">
        Events explorer
      </h2>
      <form onSubmit={apply} className="mt-2 grid gap-2 sm:grid-cols-4 sm:items-end" aria-label="Filter events">
        <Field label="Event name" value={draft.event} onChange={(e) => setDraft({ ...draft, event: e.target.value })} />
        <Field label="distinct_id" value={draft.distinct_id} onChange={(e) => setDraft({ ...draft, distinct_id: e.target.value })} />
        <Field label="Session" value={draft.session_id} onChange={(e) => setDraft({ ...draft, session_id: e.target.value })} />
        <button type="submit" className="btn-primary">
          Filter
        </button>
      </form>
      <div className="mt-3">
        <QueryState query={events} label="events" isEmpty={(d) => d.events.length === 0} empty="No events match.">
          {(data) => (
            <>
              <EventsTable events={data.events} tz={tz} testId="explorer-table" />
              <Pager label="Events" page={pager.page} nextCursor={data.next_cursor} onNext={pager.next} onPrevious={pager.previous} busy={events.isFetching} />
            </>
          )}
        </QueryState>
      </div>
    </section>
  );
}
