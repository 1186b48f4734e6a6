import { change, number } from "./format";

export function MetricCard({
  title,
  value,
  previous,
  detail,
  testId,
}: {
  title: string;
  value: number | string;
  previous: number | null;
  detail?: string;
  testId: string;
}) {
  const delta = typeof value === "number" && previous !== null ? change(value, previous) : null;
  const tone = delta?.direction === "up" ? "text-emerald-700" : delta?.direction === "down" ? "text-red-700" : "text-gray-600";
  return (
    <section className="card" aria-label={title} data-testid={testId}>
      <h3 className="text-sm text-gray-600">{title}</h3>
      <p className="mt-1 truncate text-3xl font-semibold text-gray-900" data-testid={`${testId}-value`}>
        {typeof value === "number" ? number.format(value) : value}
      </p>
      {detail && <p className="text-sm text-gray-700">{detail}</p>}
      {delta && (
        <p className={`mt-1 text-sm ${tone}`}>
          <span aria-hidden="true">{delta.direction === "up" ? "▲ " : delta.direction === "down" ? "▼ " : ""}</span>
          {delta.text} <span className="text-gray-600">vs previous period ({number.format(previous ?? 0)})</span>
        </p>
      )}
    </section>
  );
}
