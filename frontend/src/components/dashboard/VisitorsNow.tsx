"use client";

import { useVisitorsNow } from "@/hooks/queries";
import type { VisitorsNow as VisitorsNowData } from "@/lib/api";

import { number } from "./format";

export function VisitorsNowCard({ data }: { data: VisitorsNowData | undefined }) {
  return (
    <section className="card flex items-center gap-3" aria-label="Visitors now" data-testid="visitors-now">
      <span className="relative flex h-3 w-3" aria-hidden="true">
        <span className={`absolute inline-flex h-full w-full rounded-full ${data?.visitors ? "animate-ping bg-emerald-400 opacity-75" : ""}`} />
        <span className={`relative inline-flex h-3 w-3 rounded-full ${data?.visitors ? "bg-emerald-600" : "bg-gray-400"}`} />
      </span>
      <div>
        <h3 className="text-sm text-gray-600">Visitors now</h3>
        <p className="text-2xl font-semibold text-gray-900" aria-live="polite" data-testid="visitors-now-value">
          {data ? number.format(data.visitors) : "…"}
        </p>
        <p className="text-xs text-gray-600">sessions active in the last {data ? Math.round(data.window_s / 60) : 5} minutes</p>
      </div>
    </section>
  );
}

/** The card with its query: kept live by the project's WebSocket (useLiveProject), or polled
 *  every `pollMs` where there is none. */
export function VisitorsNow({ projectId, pollMs = false }: { projectId: string; pollMs?: number | false }) {
  const query = useVisitorsNow(projectId, pollMs);
  return <VisitorsNowCard data={query.data} />;
}
