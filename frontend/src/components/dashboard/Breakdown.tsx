import type { Breakdown as BreakdownData } from "@/lib/analytics-types";

import { number } from "./format";

const COUNTED = { page_views: "Views", events: "Events", sessions: "Sessions" } as const;

/** A breakdown's rows: value, count, unique sessions and users. With `onSelect`, each value is a
 * button that adds the row's filter. */
export function BreakdownTable({
  title,
  data,
  testId,
  onSelect,
}: {
  title: string;
  data: BreakdownData;
  testId: string;
  onSelect?: (value: string) => void;
}) {
  const counted = COUNTED[data.counted ?? "page_views"];
  return (
    <table className="table-base" data-testid={testId}>
      <caption className="sr-only">{title}</caption>
      <thead>
        <tr>
          <th scope="col">{title}</th>
          <th scope="col" className="text-right">
            {counted}
          </th>
          {counted !== "Sessions" && (
            <th scope="col" className="text-right">
              Sessions
            </th>
          )}
          <th scope="col" className="text-right">
            Users
          </th>
        </tr>
      </thead>
      <tbody>
        {data.items.map((item) => (
          <tr key={item.value} data-value={item.value}>
            <td className="max-w-[12rem] truncate" title={item.value}>
              {onSelect ? (
                <button type="button" className="focus-ring truncate text-left text-blue-800 hover:underline" onClick={() => onSelect(item.value)}>
                  <span className="sr-only">Filter by {title.toLowerCase()} </span>
                  {item.value}
                </button>
              ) : (
                item.value
              )}
            </td>
            <td className="text-right tabular-nums">{number.format(item.count)}</td>
            {counted !== "Sessions" && <td className="text-right tabular-nums">{number.format(item.unique_sessions)}</td>}
            <td className="text-right tabular-nums">{number.format(item.unique_users)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
