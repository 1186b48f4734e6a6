"use client";

import Link from "next/link";

import { AppHeader } from "@/components/AppHeader";
import { RangePicker } from "@/components/dashboard/RangePicker";
import type { DateRange } from "@/lib/range";

export function ProjectTopBar({
  projectId,
  name,
  current,
  range,
  onRange,
  tz,
  today,
  status,
}: {
  projectId: string;
  name: string;
  current: "dashboard" | "settings" | "user" | "funnels" | "retention";
  range?: DateRange;
  onRange?: (range: DateRange) => void;
  tz: string;
  today: string;
  status?: React.ReactNode;
}) {
  const link = (href: string, label: string, active: boolean) => (
    <Link prefetch={false}
      href={href}
      aria-current={active ? "page" : undefined}
      className={`focus-ring rounded px-2 py-1 text-sm ${active ? "bg-blue-50 font-medium text-blue-800" : "text-gray-700 hover:text-gray-900"}`}
    >
      {label}
    </Link>
  );
  return (
    <>
      <AppHeader>
        <span className="truncate font-semibold" data-testid="project-name">
          {name}
        </span>
        <nav aria-label="Project" className="flex flex-wrap gap-1">
          {link(`/projects/view/?id=${projectId}`, "Dashboard", current === "dashboard")}
          {link(`/projects/funnels/?id=${projectId}`, "Funnels", current === "funnels")}
          {link(`/projects/retention/?id=${projectId}`, "Retention", current === "retention")}
          {link(`/projects/settings/?id=${projectId}`, "Settings", current === "settings")}
        </nav>
      </AppHeader>
      {range && onRange && (
        <div className="border-b border-gray-200 bg-white">
          <div className="mx-auto flex max-w-7xl flex-wrap items-end justify-between gap-3 px-4 py-2">
            <RangePicker value={range} onChange={onRange} today={today} />
            <div className="flex items-center gap-4 text-sm text-gray-700">
              <span>
                Time zone: <span data-testid="tz">{tz}</span>
              </span>
              {status}
            </div>
          </div>
        </div>
      )}
    </>
  );
}
