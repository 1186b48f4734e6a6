"use client";

import { type FormEvent, useId, useState } from "react";

import { QueryState } from "@/components/ui/states";
import { useBreakdown } from "@/hooks/queries";
import { type BreakdownSpec, DIMENSIONS, type Dimension, dimensionLabel, filterFor } from "@/lib/filters";
import type { DateRange } from "@/lib/range";

import { BreakdownTable } from "./Breakdown";

const PROPERTY = "property";

/** One breakdown with a dimension switcher (or an event property's name); clicking a row adds
 * its filter. */
export function BreakdownCard({
  projectId,
  range,
  tz,
  filters,
  initial,
  onFilter,
  testId,
}: {
  projectId: string;
  range: DateRange;
  tz: string;
  filters: string[];
  initial: Dimension;
  onFilter: (filter: string) => void;
  testId: string;
}) {
  const [spec, setSpec] = useState<BreakdownSpec>({ dimension: initial });
  const [choosingProperty, setChoosingProperty] = useState(false);
  const [draft, setDraft] = useState("");
  const selectId = useId();
  const propertyId = useId();
  const query = useBreakdown(projectId, spec, range, tz, filters);
  const title = "property" in spec ? spec.property : dimensionLabel(spec.dimension);
  const heading = `By ${title.toLowerCase()}`;

  function choose(value: string) {
    if (value === PROPERTY) {
      setChoosingProperty(true);
      return;
    }
    setChoosingProperty(false);
    setSpec({ dimension: value as Dimension });
  }

  function applyProperty(event: FormEvent) {
    event.preventDefault();
    const name = draft.trim();
    if (name) setSpec({ property: name });
  }

  const selected = choosingProperty || "property" in spec ? PROPERTY : spec.dimension;
  return (
    <section className="card" aria-label={heading} data-testid={testId}>
      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <h2 className="font-semibold">{heading}</h2>
        <label htmlFor={selectId} className="sr-only">
          Break down by
        </label>
        <select id={selectId} className="rounded border border-gray-300 px-2 py-1 text-sm" value={selected} onChange={(e) => choose(e.target.value)}>
          {DIMENSIONS.map((d) => (
            <option key={d.value} value={d.value}>
              {d.label}
            </option>
          ))}
          <option value={PROPERTY}>Event property…</option>
        </select>
      </div>
      {selected === PROPERTY && (
        <form className="mb-2 flex gap-2" onSubmit={applyProperty}>
          <label htmlFor={propertyId} className="sr-only">
            Property name
          </label>
          <input
            id={propertyId}
            className="min-w-0 flex-1 rounded border border-gray-300 px-2 py-1 text-sm"
            placeholder="property name, e.g. plan"
            value={draft}
            maxLength={255}
            onChange={(e) => setDraft(e.target.value)}
          />
          <button type="submit" className="btn-secondary">
            Show
          </button>
        </form>
      )}
      {selected === PROPERTY && !("property" in spec) ? null : (
        <QueryState query={query} label={heading.toLowerCase()} isEmpty={(d) => d.items.length === 0} empty="Nothing in this period.">
          {(data) => {
            const canFilter = filterFor(spec, "x") !== null;
            return (
              <BreakdownTable
                title={title}
                data={data}
                testId={`${testId}-table`}
                onSelect={
                  canFilter
                    ? (value) => {
                        const filter = filterFor(spec, value);
                        if (filter) onFilter(filter);
                      }
                    : undefined
                }
              />
            );
          }}
        </QueryState>
      )}
    </section>
  );
}
