import type { TopEvent } from "@/lib/analytics-types";

import { number } from "./format";

/** Top events as a bar chart of buttons: choosing one filters the cards and the chart. */
export function TopEvents({ events, selected, onSelect }: { events: TopEvent[]; selected: string | null; onSelect: (name: string) => void }) {
  const max = Math.max(1, ...events.map((e) => e.count));
  return (
    <ul className="space-y-1" data-testid="top-events">
      {events.map((event) => (
        <li key={event.name}>
          <button
            type="button"
            onClick={() => onSelect(event.name)}
            aria-pressed={selected === event.name}
            data-name={event.name}
            data-count={event.count}
            data-users={event.unique_users}
            className="focus-ring relative flex w-full items-center justify-between rounded px-2 py-1 text-left text-sm hover:bg-gray-50"
          >
            <span
              aria-hidden="true"
              className={`absolute inset-y-0 left-0 rounded ${selected === event.name ? "bg-blue-300" : "bg-blue-100"}`}
              style={{ width: `${(event.count / max) * 100}%` }}
            />
            <span className="relative truncate font-medium">
              <span className="sr-only">Filter by </span>
              {event.name}
            </span>
            <span className="relative tabular-nums text-gray-800">
              {number.format(event.count)}
              <span className="sr-only"> events, {number.format(event.unique_users)} users</span>
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}
