// The dashboard's filters: `field:value` strings as the API takes them (`filter=country:DE`,
// repeated for AND), kept in the page's URL as repeated `filter` parameters.

/** The dimensions a breakdown can group by (docs/api.md, "Breakdowns"). */
export const DIMENSIONS = [
  { value: "page", label: "Page", filterable: true },
  { value: "entry_page", label: "Entry page", filterable: false },
  { value: "exit_page", label: "Exit page", filterable: false },
  { value: "referrer", label: "Referrer", filterable: true },
  { value: "utm_source", label: "UTM source", filterable: true },
  { value: "utm_medium", label: "UTM medium", filterable: true },
  { value: "utm_campaign", label: "UTM campaign", filterable: true },
  { value: "browser", label: "Browser", filterable: true },
  { value: "os", label: "OS", filterable: true },
  { value: "device", label: "Device", filterable: true },
  { value: "country", label: "Country", filterable: true },
  { value: "screen", label: "Screen", filterable: true },
  { value: "language", label: "Language", filterable: true },
] as const;

export type Dimension = (typeof DIMENSIONS)[number]["value"];

/** What a breakdown groups by: a dimension, or an event property's name. */
export type BreakdownSpec = { dimension: Dimension } | { property: string };

export const MAX_FILTERS = 10;

export function dimensionLabel(field: string): string {
  if (field.startsWith("prop.")) return field.slice(5);
  if (field === "event") return "Event";
  return DIMENSIONS.find((d) => d.value === field)?.label ?? field;
}

/** The filter a clicked row of a breakdown adds, or null when its rows are not filterable. */
export function filterFor(spec: BreakdownSpec, value: string): string | null {
  if ("property" in spec) return `prop.${spec.property}:${value}`;
  const dim = DIMENSIONS.find((d) => d.value === spec.dimension);
  return dim?.filterable ? `${spec.dimension}:${value}` : null;
}

export function splitFilter(filter: string): { field: string; value: string } {
  const at = filter.indexOf(":");
  return at < 0 ? { field: filter, value: "" } : { field: filter.slice(0, at), value: filter.slice(at + 1) };
}

/** The filters a URL carries, without duplicates, in their order. */
export function filtersFromSearch(search: URLSearchParams): string[] {
  const out: string[] = [];
  for (const f of search.getAll("filter")) if (f.includes(":") && !out.includes(f)) out.push(f);
  return out.slice(0, MAX_FILTERS);
}

export function withFilter(filters: string[], filter: string): string[] {
  if (filters.includes(filter) || filters.length >= MAX_FILTERS) return filters;
  return [...filters, filter];
}

export function withoutFilter(filters: string[], filter: string): string[] {
  return filters.filter((f) => f !== filter);
}
