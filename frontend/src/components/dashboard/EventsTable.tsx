import type { EventRow } from "@/lib/analytics-types";

import { dateTime, pathOf } from "./format";

export function EventsTable({ events, tz, testId }: { events: EventRow[]; tz: string; testId: string }) {
  return (
    <div className="focus-ring overflow-x-auto" role="region" aria-label="Events table" tabIndex={0}>
      <table className="table-base" data-testid={testId}>
        <caption className="sr-only">Events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">User</th>
            <th scope="col">Page</th>
            <th scope="col">Properties</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.uuid}>
              <td className="whitespace-nowrap">{dateTime(e.timestamp, tz)}</td>
              <td className="font-medium">{e.event}</td>
              <td className="max-w-[10rem] truncate">{e.distinct_id ?? "—"}</td>
              <td className="max-w-[12rem] truncate">{pathOf(e.page_url)}</td>
              <td className="max-w-[16rem] truncate font-mono text-xs">{JSON.stringify(e.properties)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
