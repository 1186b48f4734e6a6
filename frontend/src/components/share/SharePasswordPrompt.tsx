"use client";

import { type FormEvent, useState } from "react";

import { Field } from "@/components/ui/Field";

export function SharePasswordPrompt({ onSubmit, error, busy }: { onSubmit: (password: string) => void; error: string | null; busy: boolean }) {
  const [password, setPassword] = useState("");
  function submit(event: FormEvent) {
    event.preventDefault();
    if (password) onSubmit(password);
  }
  return (
    <main className="mx-auto max-w-sm px-4 py-16">
      <form onSubmit={submit} className="card space-y-3" aria-labelledby="share-password-title">
        <h1 id="share-password-title" className="text-xl font-semibold">
          This shared dashboard needs a password
        </h1>
        <Field label="Password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={error ?? undefined} autoFocus />
        <button type="submit" className="btn-primary w-full" disabled={busy || !password}>
          Open the dashboard
        </button>
      </form>
    </main>
  );
}
