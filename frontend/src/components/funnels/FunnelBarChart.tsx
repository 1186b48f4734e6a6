"use client";

import { BarChart } from "@tremor/react";

import { number } from "@/components/dashboard/format";

export default function FunnelBarChart({ data }: { data: { step: string; Reached: number }[] }) {
  return (
    <BarChart
      className="mt-3 h-64"
      data={data}
      index="step"
      categories={["Reached"]}
      colors={["blue"]}
      valueFormatter={(v: number) => number.format(v)}
      showAnimation={false}
      showLegend={false}
      yAxisWidth={48}
    />
  );
}
