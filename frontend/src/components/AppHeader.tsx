"use client";

import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import type { ReactNode } from "react";

import { useServices } from "@/lib/services";

export function AppHeader({ children }: { children?: ReactNode }) {
  const { session } = useServices();
  const client = useQueryClient();
  const router = useRouter();
  async function logout() {
    await session.logout();
    client.clear();
    router.replace("/login/");
  }
  return (
    <header className="border-b border-gray-200 bg-white">
      <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-3 px-4 py-2">
        <Link prefetch={false} href="/projects/" className="focus-ring rounded text-lg font-bold text-blue-800">
          Pulse
        </Link>
        <div className="flex min-w-0 flex-1 flex-wrap items-center gap-3">{children}</div>
        <button type="button" className="btn-secondary" onClick={() => void logout()}>
          Log out
        </button>
      </div>
    </header>
  );
}
