import { dimensionLabel, splitFilter } from "@/lib/filters";

/** The active filters as removable chips. */
export function FilterChips({ filters, onRemove, onClear }: { filters: string[]; onRemove: (filter: string) => void; onClear: () => void }) {
  if (filters.length === 0) return null;
  return (
    <div className="flex flex-wrap items-center gap-2 text-sm" data-testid="filter-chips" aria-label="Active filters" role="group">
      <span className="text-gray-700">Filtered by</span>
      {filters.map((filter) => {
        const { field, value } = splitFilter(filter);
        return (
          <span key={filter} data-filter={filter} className="inline-flex items-center gap-1 rounded-full bg-blue-50 px-3 py-1 text-blue-900 ring-1 ring-blue-200">
            <span>
              {dimensionLabel(field)}: <strong>{value}</strong>
            </span>
            <button type="button" className="focus-ring rounded-full px-1 hover:bg-blue-100" onClick={() => onRemove(filter)}>
              <span aria-hidden="true">×</span>
              <span className="sr-only">
                Remove filter {dimensionLabel(field)}: {value}
              </span>
            </button>
          </span>
        );
      })}
      {filters.length > 1 && (
        <button type="button" className="btn-secondary" onClick={onClear}>
          Clear all
        </button>
      )}
    </div>
  );
}
