"use client";

import { type FormEvent, useState } from "react";

import { CopyButton } from "@/components/ui/CopyButton";
import { Field } from "@/components/ui/Field";
import { ErrorState, QueryState } from "@/components/ui/states";
import { useCreateShareLink, useRevokeShareLink, useShareLinks } from "@/hooks/queries";
import type { ShareLinkCreated } from "@/lib/api";
import { ApiError, errorMessage } from "@/lib/errors";

/** The project's share links: make one (label, optional password, raw data or not), see the
 *  new link once, revoke any. */
export function ShareLinks({ projectId }: { projectId: string }) {
  const links = useShareLinks(projectId);
  const create = useCreateShareLink(projectId);
  const revoke = useRevokeShareLink(projectId);
  const [label, setLabel] = useState("");
  const [password, setPassword] = useState("");
  const [allowRaw, setAllowRaw] = useState(false);
  const [made, setMade] = useState<ShareLinkCreated | null>(null);
  const field = (f: string) => (create.error instanceof ApiError ? create.error.fieldMessage(f) : undefined);

  function submit(event: FormEvent) {
    event.preventDefault();
    setMade(null);
    create.mutate(
      { label: label.trim() || null, password: password || null, allow_raw: allowRaw },
      {
        onSuccess: (link) => {
          setMade(link);
          setLabel("");
          setPassword("");
          setAllowRaw(false);
        },
      },
    );
  }
  const url = made ? new URL(made.path, window.location.origin).toString() : "";

  return (
    <section className="card space-y-3" aria-labelledby="share-title" data-testid="share-links">
      <h2 id="share-title" className="font-semibold">
        Share links
      </h2>
      <p className="text-sm text-gray-700">
        A share link shows this dashboard read-only to anyone who has it: the reports, never the settings or the key. Revoking it takes effect at once.
      </p>
      <form onSubmit={submit} noValidate className="space-y-3">
        <Field label="Label" value={label} onChange={(e) => setLabel(e.target.value)} error={field("label")} hint="For your list, e.g. who it is for." />
        <Field
          label="Password (optional)"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={field("password")}
          hint="At least 8 characters; asked of everyone who opens the link."
        />
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={allowRaw} onChange={(e) => setAllowRaw(e.target.checked)} />
          Also show the raw data (events with their properties, users, sessions)
        </label>
        {create.error && !field("label") && !field("password") && (
          <p role="alert" className="text-sm text-red-700">
            {errorMessage(create.error)}
          </p>
        )}
        <button type="submit" className="btn-primary" disabled={create.isPending}>
          Create share link
        </button>
      </form>
      {made && (
        <div className="rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm" role="status">
          <p>Copy the link now: it is shown only this once.</p>
          <p className="break-all font-mono" data-testid="share-url">
            {url}
          </p>
          <CopyButton text={url} label="Copy link" />
        </div>
      )}
      <QueryState query={links} label="share links" isEmpty={(d) => d.links.length === 0} empty="No share links yet.">
        {(data) => (
          <ul className="divide-y divide-gray-100" data-testid="share-link-list">
            {data.links.map((link) => (
              <li key={link.id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
                <span>
                  <strong>{link.label ?? "Unnamed link"}</strong>
                  <span className="text-gray-600">
                    {" "}
                    · {link.has_password ? "password" : "no password"} · {link.allow_raw ? "with raw data" : "reports only"} · made{" "}
                    {new Date(link.created_at).toLocaleDateString()}
                  </span>
                </span>
                <button type="button" className="btn-danger" disabled={revoke.isPending} onClick={() => revoke.mutate(link.id)}>
                  Revoke<span className="sr-only"> {link.label ?? "unnamed link"}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
      {revoke.error && <ErrorState title="Could not revoke" error={revoke.error} />}
    </section>
  );
}
