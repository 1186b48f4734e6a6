"use client";

import { useRouter } from "next/navigation";
import { type ReactNode, useEffect } from "react";

import { Loading } from "@/components/ui/states";
import { useAuthState } from "@/lib/services";

/** Renders its children for a logged-in user; sends anyone else to /login/ (and back after). */
export function RequireAuth({ children }: { children: ReactNode }) {
  const state = useAuthState();
  const router = useRouter();
  useEffect(() => {
    if (state === "anonymous") {
      const next = window.location.pathname + window.location.search;
      router.replace(`/login/?next=${encodeURIComponent(next)}`);
    }
  }, [state, router]);
  if (state !== "authenticated") return <Loading label="Checking your login" />;
  return <>{children}</>;
}
