"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

import { Snippet } from "@/components/Snippet";
import { CopyButton } from "@/components/ui/CopyButton";
import { Field } from "@/components/ui/Field";
import { ErrorState, Loading } from "@/components/ui/states";
import { useDeleteProject, useProject, useRotateKey, useUpdateProject } from "@/hooks/queries";
import type { Project } from "@/lib/api";
import { ApiError, errorMessage } from "@/lib/errors";
import { browserTimeZone, todayIn } from "@/lib/range";

import { ProjectTopBar } from "./ProjectTopBar";
import { ShareLinks } from "./ShareLinks";
import { useProjectParams } from "./useProjectParams";

function ApiKey({ project }: { project: Project }) {
  const rotate = useRotateKey();
  const [confirming, setConfirming] = useState(false);
  return (
    <section className="card space-y-3" aria-labelledby="key-title">
      <h2 id="key-title" className="font-semibold">
        API key
      </h2>
      <p className="break-all font-mono text-sm" data-testid="api-key">
        {project.api_key}
      </p>
      <div className="flex flex-wrap gap-2">
        <CopyButton text={project.api_key} label="Copy key" />
        {!confirming && (
          <button type="button" className="btn-secondary" onClick={() => setConfirming(true)}>
            Rotate key…
          </button>
        )}
      </div>
      {confirming && (
        <div role="alertdialog" aria-labelledby="rotate-q" className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm">
          <p id="rotate-q">The current key stops working at once: sites still using it lose their events until you update the snippet. Rotate?</p>
          <div className="mt-2 flex gap-2">
            <button
              type="button"
              className="btn-danger"
              disabled={rotate.isPending}
              onClick={() => rotate.mutate({ projectId: project.id, input: undefined }, { onSuccess: () => setConfirming(false) })}
            >
              Rotate now
            </button>
            <button type="button" className="btn-secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {rotate.error && <ErrorState title="Could not rotate the key" error={rotate.error} />}
    </section>
  );
}

function Details({ project }: { project: Project }) {
  const update = useUpdateProject();
  const [name, setName] = useState(project.name);
  const [domain, setDomain] = useState(project.domain ?? "");
  const [saved, setSaved] = useState(false);
  const field = (f: string) => (update.error instanceof ApiError ? update.error.fieldMessage(f) : undefined);
  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    update.mutate(
      { projectId: project.id, input: { name: name.trim(), domain: domain.trim() || null } },
      {
        onSuccess: (p) => {
          setDomain(p.domain ?? "");
          setSaved(true);
        },
      },
    );
  }
  return (
    <form onSubmit={submit} noValidate className="card space-y-3" aria-labelledby="details-title">
      <h2 id="details-title" className="font-semibold">
        Project
      </h2>
      <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={field("name")} />
      <Field
        label="Domain"
        value={domain}
        placeholder="example.com"
        onChange={(e) => setDomain(e.target.value)}
        error={field("domain")}
        hint="Only this domain and its subdomains may send events; empty accepts any."
      />
      {update.error && !field("name") && !field("domain") && (
        <p role="alert" className="text-sm text-red-700">
          {errorMessage(update.error)}
        </p>
      )}
      <div className="flex items-center gap-2">
        <button type="submit" className="btn-primary" disabled={update.isPending}>
          Save
        </button>
        <span aria-live="polite" className="text-sm text-emerald-700">
          {saved ? "Saved" : ""}
        </span>
      </div>
    </form>
  );
}

function DangerZone({ project }: { project: Project }) {
  const remove = useDeleteProject();
  const router = useRouter();
  const [typed, setTyped] = useState("");
  function submit(event: FormEvent) {
    event.preventDefault();
    if (typed !== project.name) return;
    remove.mutate(project.id, { onSuccess: () => router.replace("/projects/") });
  }
  return (
    <form onSubmit={submit} className="card space-y-3 border-red-200" aria-labelledby="delete-title">
      <h2 id="delete-title" className="font-semibold text-red-800">
        Delete this project
      </h2>
      <p className="text-sm text-gray-700">Its events and reports are deleted with it. This cannot be undone.</p>
      <Field label={`Type the project's name (${project.name}) to confirm`} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
      {remove.error && <ErrorState title="Could not delete" error={remove.error} />}
      <button type="submit" className="btn-danger" disabled={typed !== project.name || remove.isPending}>
        Delete project
      </button>
    </form>
  );
}

export function SettingsPage() {
  const { projectId } = useProjectParams();
  const [tz] = useState(browserTimeZone);
  const project = useProject(projectId);
  if (!projectId) return <ErrorState title="No project chosen" message="Open a project from the projects list." />;
  if (project.error) return <ErrorState title="This project could not be loaded" error={project.error} onRetry={() => void project.refetch()} />;
  if (!project.data) return <Loading label="Loading the project" />;
  return (
    <>
      <ProjectTopBar projectId={projectId} name={project.data.name} current="settings" tz={tz} today={todayIn(tz)} />
      <main className="mx-auto max-w-3xl space-y-6 px-4 py-6">
        <h1 className="text-2xl font-semibold">Settings</h1>
        <ApiKey project={project.data} />
        <section className="card space-y-2" aria-labelledby="snippet-title">
          <h2 id="snippet-title" className="font-semibold">
            Tracking snippet
          </h2>
          <p className="text-sm text-gray-700">Paste it before the closing &lt;/head&gt; of every page.</p>
          <Snippet apiKey={project.data.api_key} />
        </section>
        <Details key={project.data.updated_at} project={project.data} />
        <ShareLinks projectId={project.data.id} />
        <DangerZone project={project.data} />
      </main>
    </>
  );
}
