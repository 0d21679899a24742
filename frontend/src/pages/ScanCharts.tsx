import { useQuery } from "@tanstack/react-query";
import type { EChartsOption } from "echarts";
import { useMemo, useState } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { Chart } from "../components/Chart";
import { FormError } from "../components/Field";
import { VolumeChart } from "../components/VolumeChart";
import { adoptionShares, heatmapData, WEEKDAYS } from "../lib/observe";
import { useEventTypes } from "../lib/queries";

type Scan = Schemas["ScanConfigResponse"];

const RANGES = [
  [7, "7 days"],
  [30, "30 days"],
] as const;

function windowOf(days: number) {
  const to = new Date();
  return { from: new Date(to.getTime() - days * 24 * 3600 * 1000).toISOString(), to: to.toISOString() };
}

/** Per-scan charts: app versions (volume and adoption) and the weekday × hour seasonality heatmap. */
export function ScanCharts({ slug, scan }: { slug: string; scan: Scan }) {
  const [days, setDays] = useState<number>(7);
  const [typeId, setTypeId] = useState("");
  const types = useEventTypes(slug);
  const range = useMemo(() => windowOf(days), [days]);
  const scope: Scope = typeId ? { scope_type: "event_type", scope_ref: typeId } : { scope_type: "project_total", scope_ref: scan.id };
  return (
    <>
      <div className="section-head">
        <h2>Volume patterns</h2>
        <div className="inline-row">
          <select aria-label="Scope of the charts" value={typeId} onChange={(e) => setTypeId(e.target.value)} style={{ width: "auto" }}>
            <option value="">All events of the scan</option>
            {types.data?.map((t) => <option key={t.id} value={t.id}>Event type: {t.display_name}</option>)}
          </select>
          <div className="segmented" role="group" aria-label="Chart range">
            {RANGES.map(([d, label]) => (
              <button key={d} type="button" className={d === days ? "chip chip-on" : "chip"} aria-pressed={d === days} onClick={() => setDays(d)}>
                {label}
              </button>
            ))}
          </div>
        </div>
      </div>
      <AppVersionCharts slug={slug} scan={scan} range={range} days={days} scope={scope} />
      <SeasonalityCard slug={slug} scan={scan} range={range} days={days} scope={scope} />
    </>
  );
}

type Scope = { scope_type: "project_total" | "event_type"; scope_ref: string };
type ChartProps = { slug: string; scan: Scan; range: { from: string; to: string }; days: number; scope: Scope };

function versionName(v: { version: string; is_latest?: boolean; is_other?: boolean }) {
  if (v.is_other) return "other versions";
  return v.is_latest ? `${v.version} (latest)` : v.version;
}

function AppVersionCharts({ slug, scan, range, days, scope }: ChartProps) {
  const path = { slug, scan_config_id: scan.id };
  const enabled = Boolean(scan.app_version_column);
  const versions = useQuery({
    queryKey: ["app-versions", slug, scan.id, days, scope.scope_ref],
    enabled,
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{slug}/scans/{scan_config_id}/app-versions", { params: { path, query: { ...range, ...scope } } })),
  });
  const adoption = useQuery({
    queryKey: ["version-adoption", slug, scan.id, days],
    enabled,
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/scans/{scan_config_id}/version-adoption", { params: { path, query: range } })),
  });
  const adoptionOption = useMemo<EChartsOption | null>(() => {
    if (!adoption.data?.series.length) return null;
    const shares = adoptionShares(adoption.data.series, adoption.data.totals);
    return {
      grid: { left: 48, right: 16, top: 28, bottom: 28 },
      tooltip: { trigger: "axis", valueFormatter: (v) => `${String(v)} %` },
      legend: { top: 0, type: "scroll" },
      xAxis: { type: "time" },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value} %" } },
      series: shares.map((s, i) => ({
        name: versionName(adoption.data.series[i]),
        type: "line" as const,
        stack: "share",
        showSymbol: false,
        areaStyle: { opacity: 0.55 },
        lineStyle: { width: 1 },
        data: s.data,
      })),
    };
  }, [adoption.data]);
  return (
    <section className="card" aria-label="App versions">
      <div className="section-head">
        <div>
          <h2>App versions</h2>
          {versions.data?.latest_version && <p className="muted small">Latest release: <code>{versions.data.latest_version}</code></p>}
        </div>
      </div>
      {!enabled ? (
        <p className="muted">This scan has no app version column. Set one in the scan's advanced settings to chart volume per release.</p>
      ) : (
        <>
          <FormError error={versions.error ?? adoption.error} />
          {versions.isPending && <div className="skeleton-table" style={{ height: 160 }} aria-busy="true" />}
          {versions.data && versions.data.series.length === 0 && <p className="muted">No per-version volume in this window yet.</p>}
          {versions.data && versions.data.series.length > 0 && (
            <div className="grid-2">
              <div>
                <h3>Events per version</h3>
                <VolumeChart
                  series={versions.data.series.map((s) => ({ name: versionName(s), data: s.data }))}
                  label={`Event volume per app version over the last ${days} days`}
                  height={240}
                />
              </div>
              <div>
                <h3>Adoption{scope.scope_type === "project_total" ? "" : " (all events of the scan)"}</h3>
                {adoptionOption ? (
                  <Chart option={adoptionOption} label={`App version adoption over the last ${days} days`} height={240} />
                ) : (
                  <p className="muted">No adoption data in this window.</p>
                )}
              </div>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function SeasonalityCard({ slug, scan, range, days, scope }: ChartProps) {
  const monitoring = Boolean(scan.time_column && scan.interval);
  const heatmap = useQuery({
    queryKey: ["seasonality", slug, scan.id, days, scope.scope_ref],
    enabled: monitoring,
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{slug}/scans/{scan_config_id}/seasonality", {
          params: { path: { slug, scan_config_id: scan.id }, query: { ...scope, ...range } },
        }),
      ),
  });
  const option = useMemo<((theme: string) => EChartsOption) | null>(() => {
    if (!heatmap.data || heatmap.data.total_count === 0) return null;
    return (theme) => ({
      grid: { left: 48, right: 16, top: 10, bottom: 64 },
      tooltip: {
        formatter: (p) => {
          const [hour, weekday, count] = (p as unknown as { value: [number, number, number] }).value;
          return `${WEEKDAYS[weekday]} ${String(hour).padStart(2, "0")}:00 UTC — ${count.toLocaleString("en")} events`;
        },
      },
      xAxis: { type: "category", data: Array.from({ length: 24 }, (_, h) => String(h).padStart(2, "0")), splitArea: { show: true } },
      yAxis: { type: "category", data: WEEKDAYS, inverse: true, splitArea: { show: true } },
      visualMap: {
        min: 0,
        max: Math.max(heatmap.data.max_count, 1),
        orient: "horizontal",
        left: "center",
        bottom: 0,
        calculable: true,
        inRange: { color: theme === "dark" ? ["#1c2038", "#4f46e5", "#c7d2fe"] : ["#eef0ff", "#818cf8", "#3730a3"] },
      },
      series: [{ type: "heatmap", data: heatmapData(heatmap.data.cells), emphasis: { itemStyle: { borderColor: "#888", borderWidth: 1 } } }],
    });
  }, [heatmap.data]);
  return (
    <section className="card" aria-label="Seasonality">
      <div>
        <h2>Seasonality</h2>
        <p className="muted small">Events by weekday and hour (UTC), summed over the window.</p>
      </div>
      {!monitoring ? (
        <p className="muted">Seasonality needs a monitoring scan: set a time column and an interval.</p>
      ) : (
        <>
          <FormError error={heatmap.error} />
          {heatmap.isPending && <div className="skeleton-table" style={{ height: 200 }} aria-busy="true" />}
          {heatmap.data && !option && <p className="muted">No volume collected in this window yet.</p>}
          {option && <Chart option={option} label={`Seasonality heatmap over the last ${days} days`} height={300} />}
        </>
      )}
    </section>
  );
}
