import type { Breakdown as BreakdownData } from "@/lib/analytics-types";

import { number } from "./format";

export function BreakdownTable({ title, data, testId }: { title: string; data: BreakdownData; testId: string }) {
  return (
    <table className="table-base" data-testid={testId}>
      <caption className="sr-only">{title}</caption>
      <thead>
        <tr>
          <th scope="col">{title}</th>
          <th scope="col" className="text-right">
            Views
          </th>
          <th scope="col" className="text-right">
            Sessions
          </th>
        </tr>
      </thead>
      <tbody>
        {data.items.map((item) => (
          <tr key={item.value}>
            <td className="max-w-[12rem] truncate" title={item.value}>
              {item.value}
            </td>
            <td className="text-right tabular-nums">{number.format(item.count)}</td>
            <td className="text-right tabular-nums">{number.format(item.unique_sessions)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
