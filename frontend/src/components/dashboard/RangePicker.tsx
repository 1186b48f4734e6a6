"use client";

import { type FormEvent, useId, useState } from "react";

import { customRangeError, type DateRange, PRESETS, rangeLabel } from "@/lib/range";

export function RangePicker({ value, onChange, today }: { value: DateRange; onChange: (range: DateRange) => void; today: string }) {
  const id = useId();
  const [custom, setCustom] = useState(value.preset === "custom");
  const [from, setFrom] = useState(value.preset === "custom" ? value.from : today);
  const [to, setTo] = useState(value.preset === "custom" ? value.to : today);
  const [error, setError] = useState<string | null>(null);

  function apply(event: FormEvent) {
    event.preventDefault();
    const problem = customRangeError(from, to);
    setError(problem);
    if (!problem) onChange({ preset: "custom", from, to });
  }

  return (
    <div className="flex flex-wrap items-end gap-2">
      <div>
        <label htmlFor={`${id}-preset`} className="block text-xs text-gray-600">
          Date range
        </label>
        <select
          id={`${id}-preset`}
          className="input w-auto"
          value={custom ? "custom" : value.preset}
          onChange={(e) => {
            if (e.target.value === "custom") setCustom(true);
            else {
              setCustom(false);
              onChange({ preset: e.target.value as (typeof PRESETS)[number] });
            }
          }}
        >
          {PRESETS.map((preset) => (
            <option key={preset} value={preset}>
              {rangeLabel({ preset })}
            </option>
          ))}
          <option value="custom">Custom…</option>
        </select>
      </div>
      {custom && (
        <form onSubmit={apply} className="flex flex-wrap items-end gap-2" aria-label="Custom range">
          <div>
            <label htmlFor={`${id}-from`} className="block text-xs text-gray-600">
              From
            </label>
            <input id={`${id}-from`} type="date" className="input w-auto" value={from} max={today} onChange={(e) => setFrom(e.target.value)} />
          </div>
          <div>
            <label htmlFor={`${id}-to`} className="block text-xs text-gray-600">
              To
            </label>
            <input id={`${id}-to`} type="date" className="input w-auto" value={to} max={today} onChange={(e) => setTo(e.target.value)} />
          </div>
          <button type="submit" className="btn-secondary">
            Apply
          </button>
          {error && (
            <p role="alert" className="w-full text-sm text-red-700">
              {error}
            </p>
          )}
        </form>
      )}
    </div>
  );
}
