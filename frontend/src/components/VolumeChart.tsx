import type { EChartsOption } from "echarts";
import { useMemo } from "react";
import type { Schemas } from "../api/client";
import { Chart } from "./Chart";

type Point = Schemas["EventMetricPoint"];
type Series = { name: string; data: Point[] };

/** Event volume over time: one line per series, the expected band's centre dashed, anomalies marked. */
export function VolumeChart({ series, label, height = 260 }: { series: Series[]; label: string; height?: number }) {
  const option = useMemo<EChartsOption>(() => {
    const main = series[0];
    const expected = series.length === 1 && main.data.some((p) => p.expected_count != null);
    return {
      grid: { left: 48, right: 16, top: 28, bottom: 28 },
      tooltip: { trigger: "axis" },
      legend: series.length > 1 || expected ? { top: 0, type: "scroll" } : undefined,
      xAxis: { type: "time" },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        ...series.map((s) => ({
          name: s.name,
          type: "line" as const,
          showSymbol: false,
          smooth: true,
          areaStyle: series.length === 1 ? { opacity: 0.12 } : undefined,
          data: s.data.map((p) => [p.bucket, p.count]),
          markPoint:
            series.length === 1
              ? {
                  symbol: "circle",
                  symbolSize: 9,
                  itemStyle: { color: "#d92d20" },
                  label: { show: false },
                  data: s.data.filter((p) => p.is_anomaly).map((p) => ({ coord: [p.bucket, p.count], name: "anomaly" })),
                }
              : undefined,
        })),
        ...(expected
          ? [
              {
                name: "expected",
                type: "line" as const,
                showSymbol: false,
                lineStyle: { type: "dashed" as const, width: 1 },
                data: main.data.filter((p) => p.expected_count != null).map((p) => [p.bucket, p.expected_count]),
              },
            ]
          : []),
      ],
    };
  }, [series]);
  return <Chart option={option} label={label} height={height} />;
}
