"use client";

import Link from "next/link";

import { Pager, useCursorPager } from "@/components/ui/Pager";
import { QueryState } from "@/components/ui/states";
import { useUsers } from "@/hooks/queries";
import type { DateRange } from "@/lib/range";

import { dateTime } from "./format";

export function UsersTable({ projectId, range, tz, filters = [] }: { projectId: string; range: DateRange; tz: string; filters?: string[] }) {
  const pager = useCursorPager(JSON.stringify([projectId, range, tz, filters]));
  const users = useUsers(projectId, range, tz, pager.cursor, filters);
  return (
    <section className="card" aria-labelledby="users-title">
      <h2 id="users-title" className="font-semibold">
        Users
      </h2>
      <QueryState query={users} label="users" isEmpty={(d) => d.users.length === 0 && pager.page === 1} empty="No users in this period.">
        {(data) => (
          <>
            <div className="focus-ring mt-2 overflow-x-auto" role="region" aria-label="Users table" tabIndex={0}>
              <table className="table-base" data-testid="users-table">
                <caption className="sr-only">Users, last seen first</caption>
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Events</th>
                    <th scope="col">Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {data.users.map((u) => (
                    <tr key={u.distinct_id}>
                      <td className="max-w-[14rem] truncate">
                        <Link prefetch={false}
                          className="focus-ring rounded text-blue-800 underline"
                          href={`/projects/user/?id=${projectId}&user=${encodeURIComponent(u.distinct_id)}`}
                        >
                          {u.distinct_id}
                        </Link>
                      </td>
                      <td>{u.properties !== null ? "identified" : "anonymous"}</td>
                      <td className="tabular-nums">{u.event_count}</td>
                      <td className="whitespace-nowrap">{dateTime(u.last_seen, tz)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager label="Users" page={pager.page} nextCursor={data.next_cursor} onNext={pager.next} onPrevious={pager.previous} busy={users.isFetching} />
          </>
        )}
      </QueryState>
    </section>
  );
}
