"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";

import { filtersFromSearch } from "@/lib/filters";
import { type DateRange, rangeFromSearch, rangeToSearch } from "@/lib/range";

/** A project page's state lives in its query string (?id=…&range=7d&event=…&filter=country:DE…), so it can be bookmarked and shared. */
export function useProjectParams() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const projectId = params.get("id") ?? "";
  const key = params.toString();
  const range = useMemo(() => rangeFromSearch(new URLSearchParams(key)), [key]);
  const event = params.get("event");
  const filters = useMemo(() => filtersFromSearch(new URLSearchParams(key)), [key]);

  const update = useCallback(
    (changes: { range?: DateRange; event?: string | null; filters?: string[] }) => {
      const next = new URLSearchParams(key);
      if (changes.range) {
        for (const name of ["range", "from", "to"]) next.delete(name);
        for (const [name, value] of Object.entries(rangeToSearch(changes.range))) next.set(name, value);
      }
      if (changes.event !== undefined) {
        if (changes.event) next.set("event", changes.event);
        else next.delete("event");
      }
      if (changes.filters) {
        next.delete("filter");
        for (const filter of changes.filters) next.append("filter", filter);
      }
      router.replace(`${pathname}?${next.toString()}`, { scroll: false });
    },
    [key, pathname, router],
  );

  return { projectId, range, event, filters, update };
}
