"use client";

import { useId, useState } from "react";

import type { FunnelCreate, FunnelStep } from "@/lib/funnels-api";

export const MIN_STEPS = 2;
export const MAX_STEPS = 6;
export const WINDOWS = ["30m", "1h", "6h", "1d", "7d", "30d"] as const;

/** A step as the form edits it: every field a string, empty meaning "no match". */
export interface StepDraft {
  event: string;
  page: string;
  propertyKey: string;
  propertyValue: string;
}
export interface FunnelDraft {
  name: string;
  steps: StepDraft[];
  window: string;
  by: "session" | "user";
}

const blankStep = (): StepDraft => ({ event: "", page: "", propertyKey: "", propertyValue: "" });

export function newDraft(): FunnelDraft {
  return { name: "", steps: [{ ...blankStep(), event: "page_view" }, blankStep()], window: "1d", by: "session" };
}

export function draftOf(funnel: { name: string; steps: FunnelStep[]; window: string; by: "session" | "user" }): FunnelDraft {
  return {
    name: funnel.name,
    window: funnel.window,
    by: funnel.by,
    steps: funnel.steps.map((s) => ({ event: s.event, page: s.page ?? "", propertyKey: s.property?.key ?? "", propertyValue: s.property?.value ?? "" })),
  };
}

/** The draft's problems (field → message), or the body the API takes. */
export function toBody(draft: FunnelDraft): { errors: Record<string, string> } | { body: FunnelCreate } {
  const errors: Record<string, string> = {};
  if (!draft.name.trim()) errors.name = "Give the funnel a name";
  draft.steps.forEach((s, i) => {
    if (!s.event.trim()) errors[`step-${i}-event`] = "Name the event";
    if (s.page && !s.page.startsWith("/")) errors[`step-${i}-page`] = "A path starts with /";
    if (!s.propertyKey && s.propertyValue) errors[`step-${i}-property`] = "Name the property";
  });
  if (Object.keys(errors).length) return { errors };
  return {
    body: {
      name: draft.name.trim(),
      window: draft.window,
      by: draft.by,
      steps: draft.steps.map((s) => ({
        event: s.event.trim(),
        page: s.page || null,
        property: s.propertyKey ? { key: s.propertyKey, value: s.propertyValue } : null,
      })),
    },
  };
}

function Input({ label, value, onChange, error, placeholder, testId }: { label: string; value: string; onChange: (v: string) => void; error?: string; placeholder?: string; testId?: string }) {
  const id = useId();
  return (
    <div className="min-w-0 flex-1 space-y-1">
      <label htmlFor={id} className="block text-xs font-medium text-gray-800">
        {label}
      </label>
      <input
        id={id}
        className="input"
        value={value}
        placeholder={placeholder}
        data-testid={testId}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {error && (
        <p id={`${id}-error`} className="text-xs text-red-700">
          {error}
        </p>
      )}
    </div>
  );
}

/** The funnel's name, ordered steps (2 to 6: add, remove, move), window and counting unit. */
export function StepEditor({
  initial,
  onSave,
  onCancel,
  busy,
  serverError,
}: {
  initial: FunnelDraft;
  onSave: (body: FunnelCreate) => void;
  onCancel?: () => void;
  busy?: boolean;
  serverError?: string | null;
}) {
  const [draft, setDraft] = useState<FunnelDraft>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const setStep = (i: number, change: Partial<StepDraft>) =>
    setDraft((d) => ({ ...d, steps: d.steps.map((s, j) => (j === i ? { ...s, ...change } : s)) }));
  const move = (i: number, by: -1 | 1) =>
    setDraft((d) => {
      const steps = [...d.steps];
      [steps[i], steps[i + by]] = [steps[i + by], steps[i]];
      return { ...d, steps };
    });
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const out = toBody(draft);
    if ("errors" in out) setErrors(out.errors);
    else {
      setErrors({});
      onSave(out.body);
    }
  };
  return (
    <form className="card space-y-4" aria-label="Funnel" onSubmit={submit} noValidate>
      <Input label="Name" value={draft.name} onChange={(name) => setDraft((d) => ({ ...d, name }))} error={errors.name} testId="funnel-name" />
      <ol className="space-y-3" aria-label="Steps">
        {draft.steps.map((s, i) => (
          <li key={i} className="rounded-md border border-gray-200 p-3" data-testid="step-editor">
            <div className="mb-2 flex items-center justify-between">
              <span className="text-sm font-semibold">Step {i + 1}</span>
              <span className="flex gap-1">
                <button type="button" className="btn-secondary px-2 py-0.5 text-xs" aria-label={`Move step ${i + 1} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                  ↑
                </button>
                <button
                  type="button"
                  className="btn-secondary px-2 py-0.5 text-xs"
                  aria-label={`Move step ${i + 1} down`}
                  disabled={i === draft.steps.length - 1}
                  onClick={() => move(i, 1)}
                >
                  ↓
                </button>
                <button
                  type="button"
                  className="btn-secondary px-2 py-0.5 text-xs"
                  aria-label={`Remove step ${i + 1}`}
                  disabled={draft.steps.length <= MIN_STEPS}
                  onClick={() => setDraft((d) => ({ ...d, steps: d.steps.filter((_, j) => j !== i) }))}
                >
                  ✕
                </button>
              </span>
            </div>
            <div className="flex flex-wrap gap-2">
              <Input label={`Step ${i + 1} event`} value={s.event} onChange={(event) => setStep(i, { event })} error={errors[`step-${i}-event`]} testId={`step-${i}-event`} />
              <Input label={`Step ${i + 1} page (optional)`} value={s.page} placeholder="/pricing" onChange={(page) => setStep(i, { page })} error={errors[`step-${i}-page`]} testId={`step-${i}-page`} />
              <Input label={`Step ${i + 1} property (optional)`} value={s.propertyKey} placeholder="plan" onChange={(propertyKey) => setStep(i, { propertyKey })} error={errors[`step-${i}-property`]} />
              <Input label={`Step ${i + 1} property value`} value={s.propertyValue} placeholder="pro" onChange={(propertyValue) => setStep(i, { propertyValue })} />
            </div>
          </li>
        ))}
      </ol>
      <div className="flex flex-wrap items-end gap-4">
        <button type="button" className="btn-secondary" disabled={draft.steps.length >= MAX_STEPS} onClick={() => setDraft((d) => ({ ...d, steps: [...d.steps, blankStep()] }))}>
          Add step
        </button>
        <label className="text-sm">
          <span className="mr-2 font-medium">Window</span>
          <select className="input w-auto" value={draft.window} onChange={(e) => setDraft((d) => ({ ...d, window: e.target.value }))}>
            {[...new Set([...WINDOWS, draft.window])].map((w) => (
              <option key={w} value={w}>
                {w}
              </option>
            ))}
          </select>
        </label>
        <label className="text-sm">
          <span className="mr-2 font-medium">Count</span>
          <select className="input w-auto" value={draft.by} onChange={(e) => setDraft((d) => ({ ...d, by: e.target.value as "session" | "user" }))}>
            <option value="session">sessions</option>
            <option value="user">users</option>
          </select>
        </label>
      </div>
      {serverError && (
        <p role="alert" className="text-sm text-red-700">
          {serverError}
        </p>
      )}
      <div className="flex gap-2">
        <button type="submit" className="btn-primary" disabled={busy}>
          Save funnel
        </button>
        {onCancel && (
          <button type="button" className="btn-secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
