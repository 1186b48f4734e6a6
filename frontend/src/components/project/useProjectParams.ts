"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";

import { type DateRange, rangeFromSearch, rangeToSearch } from "@/lib/range";

/** A project page's state lives in its query string (?id=…&range=7d&event=…), so it can be bookmarked and shared. */
export function useProjectParams() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const projectId = params.get("id") ?? "";
  const key = params.toString();
  const range = useMemo(() => rangeFromSearch(new URLSearchParams(key)), [key]);
  const event = params.get("event");

  const update = useCallback(
    (changes: { range?: DateRange; event?: string | null }) => {
      const next = new URLSearchParams(key);
      if (changes.range) {
        for (const name of ["range", "from", "to"]) next.delete(name);
        for (const [name, value] of Object.entries(rangeToSearch(changes.range))) next.set(name, value);
      }
      if (changes.event !== undefined) {
        if (changes.event) next.set("event", changes.event);
        else next.delete("event");
      }
      router.replace(`${pathname}?${next.toString()}`, { scroll: false });
    },
    [key, pathname, router],
  );

  return { projectId, range, event, update };
}
