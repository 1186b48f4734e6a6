"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";

import { ProjectTopBar } from "@/components/project/ProjectTopBar";
import { useProjectParams } from "@/components/project/useProjectParams";
import { Empty, ErrorState, Loading, QueryState } from "@/components/ui/states";
import { useProject } from "@/hooks/queries";
import { useDeleteFunnel, useFunnelResult, useFunnels, useSaveFunnel } from "@/hooks/useFunnels";
import { errorMessage } from "@/lib/errors";
import type { Funnel } from "@/lib/funnels-api";
import { browserTimeZone, todayIn } from "@/lib/range";

import { FunnelResultView } from "./FunnelResultView";
import { draftOf, newDraft, StepEditor } from "./StepEditor";

/** Saved funnels (list), the step editor (new or edit) and the chosen funnel's result over the
 * range. The chosen funnel is in the URL (?funnel=…), so it can be bookmarked. */
export function FunnelsPage() {
  const { projectId, range, update } = useProjectParams();
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const chosen = params.get("funnel");
  const [tz] = useState(browserTimeZone);
  const [editing, setEditing] = useState<"new" | Funnel | null>(null);
  const project = useProject(projectId);
  const funnels = useFunnels(projectId);
  const result = useFunnelResult(projectId, chosen, range, tz);
  const save = useSaveFunnel(projectId);
  const remove = useDeleteFunnel(projectId);

  const choose = (funnelId: string | null) => {
    const next = new URLSearchParams(params.toString());
    if (funnelId) next.set("funnel", funnelId);
    else next.delete("funnel");
    router.replace(`${pathname}?${next.toString()}`, { scroll: false });
  };

  if (!projectId) return <ErrorState title="No project chosen" message="Open a project from the projects list." />;
  if (project.error) return <ErrorState error={project.error} />;
  if (!project.data) return <Loading label="Loading the project" />;
  const selected = funnels.data?.funnels.find((f) => f.id === chosen) ?? null;
  return (
    <>
      <ProjectTopBar projectId={projectId} name={project.data.name} current="funnels" range={range} onRange={(r) => update({ range: r })} tz={tz} today={todayIn(tz)} />
      <main className="mx-auto grid max-w-7xl gap-6 px-4 py-6 lg:grid-cols-[16rem_1fr]">
        <h1 className="sr-only">Funnels</h1>
        <aside className="card h-fit space-y-3" aria-labelledby="funnel-list-title">
          <div className="flex items-center justify-between">
            <h2 id="funnel-list-title" className="font-semibold">
              Funnels
            </h2>
            <button type="button" className="btn-primary px-2 py-1 text-sm" onClick={() => setEditing("new")}>
              New funnel
            </button>
          </div>
          <QueryState query={funnels} label="the funnels" isEmpty={(d) => d.funnels.length === 0} empty="No funnels yet.">
            {(data) => (
              <ul className="space-y-1" data-testid="funnel-list">
                {data.funnels.map((f) => (
                  <li key={f.id}>
                    <button
                      type="button"
                      aria-current={f.id === chosen ? "true" : undefined}
                      className={`focus-ring w-full rounded px-2 py-1 text-left text-sm ${f.id === chosen ? "bg-blue-50 font-medium text-blue-800" : "hover:bg-gray-50"}`}
                      onClick={() => {
                        setEditing(null);
                        choose(f.id);
                      }}
                    >
                      {f.name}
                      <span className="block text-xs text-gray-600">
                        {f.steps.length} steps · {f.window} · by {f.by}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </QueryState>
        </aside>
        <div className="min-w-0 space-y-6">
          {editing && (
            <StepEditor
              key={editing === "new" ? "new" : editing.id}
              initial={editing === "new" ? newDraft() : draftOf(editing)}
              busy={save.isPending}
              serverError={save.error ? errorMessage(save.error) : null}
              onCancel={() => setEditing(null)}
              onSave={(body) =>
                save.mutate(
                  { funnelId: editing === "new" ? null : editing.id, body },
                  {
                    onSuccess: (saved) => {
                      setEditing(null);
                      choose(saved.id);
                    },
                  },
                )
              }
            />
          )}
          {selected ? (
            <>
              <div className="flex flex-wrap items-center justify-between gap-2">
                <h2 className="text-xl font-semibold" data-testid="funnel-title">
                  {selected.name}
                </h2>
                <span className="flex gap-2">
                  <button type="button" className="btn-secondary" onClick={() => setEditing(selected)}>
                    Edit
                  </button>
                  <button
                    type="button"
                    className="btn-danger"
                    disabled={remove.isPending}
                    onClick={() => {
                      if (window.confirm(`Delete the funnel “${selected.name}”?`)) remove.mutate(selected.id, { onSuccess: () => choose(null) });
                    }}
                  >
                    Delete
                  </button>
                </span>
              </div>
              <QueryState query={result} label="the funnel">
                {(data) => <FunnelResultView result={data} />}
              </QueryState>
            </>
          ) : (
            !editing && <Empty>Choose a funnel, or make a new one.</Empty>
          )}
        </div>
      </main>
    </>
  );
}
