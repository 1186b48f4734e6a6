"use client";

import Link from "next/link";
import { type FormEvent, useState } from "react";

import { AppHeader } from "@/components/AppHeader";
import { Snippet } from "@/components/Snippet";
import { Field } from "@/components/ui/Field";
import { QueryState } from "@/components/ui/states";
import { useCreateProject, useProjects } from "@/hooks/queries";
import { ApiError, errorMessage } from "@/lib/errors";

function CreateProjectForm() {
  const create = useCreateProject();
  const [name, setName] = useState("");
  const [domain, setDomain] = useState("");
  const [nameError, setNameError] = useState<string>();
  const error = create.error;
  const serverField = (field: string) => (error instanceof ApiError ? error.fieldMessage(field) : undefined);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) {
      setNameError("Give the project a name");
      return;
    }
    setNameError(undefined);
    create.mutate(
      { name: name.trim(), domain: domain.trim() || null },
      {
        onSuccess: () => {
          setName("");
          setDomain("");
        },
      },
    );
  }

  return (
    <form onSubmit={submit} noValidate className="card space-y-3" aria-labelledby="create-project">
      <h2 id="create-project" className="text-lg font-semibold">
        New project
      </h2>
      <Field label="Name" name="name" value={name} onChange={(e) => setName(e.target.value)} error={nameError ?? serverField("name")} />
      <Field
        label="Domain (optional)"
        name="domain"
        placeholder="example.com"
        value={domain}
        onChange={(e) => setDomain(e.target.value)}
        error={serverField("domain")}
        hint="Events are accepted only from this domain and its subdomains."
      />
      {error && !serverField("name") && !serverField("domain") && (
        <p role="alert" className="text-sm text-red-700">
          {errorMessage(error)}
        </p>
      )}
      <button type="submit" className="btn-primary" disabled={create.isPending}>
        {create.isPending ? "Creating…" : "Create project"}
      </button>
    </form>
  );
}

export function ProjectsPage() {
  const projects = useProjects();
  const list = projects.data?.projects ?? [];
  const newest = list[list.length - 1];
  return (
    <>
      <AppHeader />
      <main className="mx-auto grid max-w-7xl gap-6 px-4 py-6 md:grid-cols-3">
        <section className="space-y-3 md:col-span-2" aria-labelledby="projects-title">
          <h1 id="projects-title" className="text-2xl font-semibold">
            Projects
          </h1>
          <QueryState
            query={projects}
            label="projects"
            isEmpty={(data) => data.projects.length === 0}
            empty="No projects yet. Create one with the form: you will get the snippet to paste into your site."
          >
            {(data) => (
              <ul className="divide-y divide-gray-200 rounded-lg border border-gray-200 bg-white">
                {data.projects.map((project) => (
                  <li key={project.id} className="flex flex-wrap items-center justify-between gap-2 p-3">
                    <div>
                      <Link prefetch={false} className="focus-ring rounded font-medium text-blue-800 underline" href={`/projects/view/?id=${project.id}`}>
                        {project.name}
                      </Link>
                      <p className="text-xs text-gray-600">{project.domain ?? "any domain"}</p>
                    </div>
                    <Link prefetch={false} className="focus-ring rounded text-sm text-gray-700 underline" href={`/projects/settings/?id=${project.id}`}>
                      Settings<span className="sr-only"> of {project.name}</span>
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </QueryState>
          {newest && list.length === 1 && (
            <div className="card space-y-2">
              <h2 className="font-semibold">Next: track your site</h2>
              <p className="text-sm text-gray-700">
                Paste this into the pages of <strong>{newest.domain ?? "your site"}</strong>; events show up live on the
                project&apos;s dashboard.
              </p>
              <Snippet apiKey={newest.api_key} />
            </div>
          )}
        </section>
        <aside>
          <CreateProjectForm />
        </aside>
      </main>
    </>
  );
}
