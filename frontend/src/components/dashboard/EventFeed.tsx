import type { LiveProject } from "@/hooks/useLiveProject";

import { LiveIndicator } from "./LiveIndicator";
import { pathOf, time } from "./format";

export function EventFeed({ live, tz }: { live: LiveProject; tz: string }) {
  return (
    <section className="card" aria-labelledby="feed-title">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="feed-title" className="font-semibold">
          Live events
        </h2>
        <div className="flex items-center gap-3">
          <LiveIndicator status={live.status} />
          {live.paused ? (
            <button type="button" className="btn-secondary" onClick={live.resume}>
              Resume{live.pending ? ` (${live.pending} new)` : ""}
            </button>
          ) : (
            <button type="button" className="btn-secondary" onClick={live.pause}>
              Pause
            </button>
          )}
        </div>
      </div>
      {live.feed.length === 0 ? (
        <p className="mt-3 text-sm text-gray-600">Waiting for events… they appear here within a second of arriving.</p>
      ) : (
        <ol
          className="focus-ring mt-3 max-h-96 divide-y divide-gray-100 overflow-y-auto"
          aria-label="Latest events, newest first"
          data-testid="live-feed"
          tabIndex={0}
        >
          {live.feed.map((event) => (
            <li key={event.uuid} className="py-1.5 text-sm" data-event={event.event}>
              <div className="flex flex-wrap items-baseline justify-between gap-2">
                <span className="font-medium">{event.event}</span>
                <time className="tabular-nums text-xs text-gray-600" dateTime={event.timestamp}>
                  {time(event.timestamp, tz)}
                </time>
              </div>
              <p className="truncate text-xs text-gray-700">
                {pathOf(event.page_url)} · {event.distinct_id ?? "anonymous"}
              </p>
              {Object.keys(event.properties ?? {}).length > 0 && (
                <p className="truncate font-mono text-xs text-gray-600">{JSON.stringify(event.properties)}</p>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
