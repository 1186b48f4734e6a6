"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

import { Loading } from "@/components/ui/states";
import { useAuthState } from "@/lib/services";

export default function Home() {
  const state = useAuthState();
  const router = useRouter();
  useEffect(() => {
    if (state === "authenticated") router.replace("/projects/");
    else if (state === "anonymous") router.replace("/login/");
  }, [state, router]);
  return <Loading label="Loading" />;
}
