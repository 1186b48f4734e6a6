"use client";

import { AreaChart } from "@tremor/react";

import { number } from "./format";

export default function EventsAreaChart({ data }: { data: { bucket: string; Events: number; Sessions: number }[] }) {
  return (
    <AreaChart
      className="mt-3 h-64"
      data={data}
      index="bucket"
      categories={["Events", "Sessions"]}
      colors={["blue", "emerald"]}
      valueFormatter={(v: number) => number.format(v)}
      showAnimation={false}
      showLegend={false}
      yAxisWidth={48}
    />
  );
}
