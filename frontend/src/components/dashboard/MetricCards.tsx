import type { Overview } from "@/lib/analytics-types";

import { MetricCard } from "./MetricCard";

export function MetricCards({ overview }: { overview: Overview }) {
  const { previous } = overview;
  return (
    <div className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-4">
      <MetricCard
        title="Total events"
        testId="card-events"
        value={overview.total_events}
        previous={previous.total_events}
        detail={overview.bots_filtered ? `${overview.bots_filtered.toLocaleString("en-US")} bot events filtered out` : undefined}
      />
      <MetricCard title="Unique sessions" testId="card-sessions" value={overview.unique_sessions} previous={previous.unique_sessions} />
      <MetricCard title="Unique users" testId="card-users" value={overview.unique_users} previous={previous.unique_users} />
      <MetricCard
        title="Top event"
        testId="card-top"
        value={overview.top_event?.name ?? "—"}
        previous={null}
        detail={
          overview.top_event
            ? `${overview.top_event.count.toLocaleString("en-US")} times` +
              (previous.top_event ? ` (before: ${previous.top_event.name}, ${previous.top_event.count.toLocaleString("en-US")})` : "")
            : "no events"
        }
      />
    </div>
  );
}
