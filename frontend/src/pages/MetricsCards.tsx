import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../api/client";
import { FormError } from "../components/Field";
import { VolumeChart } from "../components/VolumeChart";

const RANGES = [
  ["1", "24 hours"],
  ["7", "7 days"],
  ["30", "30 days"],
] as const;

function windowOf(days: string) {
  const to = new Date();
  const from = new Date(to.getTime() - Number(days) * 24 * 3600 * 1000);
  return { from: from.toISOString(), to: to.toISOString() };
}

function RangePicker({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  return (
    <div className="segmented" role="group" aria-label="Time range">
      {RANGES.map(([v, label]) => (
        <button key={v} type="button" className={v === value ? "chip chip-on" : "chip"} aria-pressed={v === value} onClick={() => onChange(v)}>
          {label}
        </button>
      ))}
    </div>
  );
}

const NO_DATA = "No volume yet: a scan with a time column collects it.";

/** Volume of a whole project, an event type or one event (with its breakdowns). */
export function VolumeCard({ slug, eventTypeId, eventId }: { slug: string; eventTypeId?: string; eventId?: string }) {
  const [days, setDays] = useState("7");
  const [column, setColumn] = useState("");
  const range = windowOf(days);
  const scope = eventId ? "event" : eventTypeId ? "event-type" : "project";
  const metrics = useQuery({
    queryKey: ["metrics", slug, scope, eventId ?? eventTypeId ?? "", days],
    queryFn: () => {
      if (eventId)
        return unwrap(api.GET("/api/v1/projects/{slug}/events/{event_id}/metrics", { params: { path: { slug, event_id: eventId }, query: range } }));
      if (eventTypeId)
        return unwrap(
          api.GET("/api/v1/projects/{slug}/event-types/{event_type_id}/metrics", {
            params: { path: { slug, event_type_id: eventTypeId }, query: range },
          }),
        );
      return unwrap(api.GET("/api/v1/projects/{slug}/metrics/total", { params: { path: { slug }, query: range } }));
    },
  });
  const breakdowns = useQuery({
    queryKey: ["breakdowns", slug, eventId, column, days],
    enabled: Boolean(eventId),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{slug}/events/{event_id}/metrics/breakdowns", {
          params: { path: { slug, event_id: eventId! }, query: { ...range, column: column || undefined } },
        }),
      ),
  });
  const data = metrics.data?.data ?? [];
  const total = data.reduce((sum, p) => sum + p.count, 0);
  const anomalies = data.filter((p) => p.is_anomaly).length;
  const split = breakdowns.data?.series ?? [];
  return (
    <section className="card">
      <div className="section-head">
        <div>
          <h2>Volume</h2>
          {data.length > 0 && (
            <p className="muted small">
              {total.toLocaleString()} events in the window{metrics.data?.interval ? ` · per ${metrics.data.interval}` : ""}
              {anomalies > 0 && <span className="danger-text"> · {anomalies} anomalous bucket{anomalies === 1 ? "" : "s"}</span>}
            </p>
          )}
        </div>
        <RangePicker value={days} onChange={setDays} />
      </div>
      <FormError error={metrics.error} />
      {metrics.isPending && <div className="skeleton-table" style={{ height: 200 }} aria-busy="true" />}
      {metrics.data && data.length === 0 && <p className="muted">{NO_DATA}</p>}
      {data.length > 0 && <VolumeChart series={[{ name: "events", data }]} label={`Event volume over the last ${days} days`} />}
      {eventId && (breakdowns.data?.columns.length ?? 0) > 0 && (
        <>
          <div className="section-head">
            <h3>Breakdown</h3>
            <select aria-label="Breakdown column" value={column || breakdowns.data?.selected_column || ""} onChange={(e) => setColumn(e.target.value)} style={{ width: "auto" }}>
              {breakdowns.data?.columns.map((c) => <option key={c}>{c}</option>)}
            </select>
          </div>
          {split.length > 0 ? (
            <VolumeChart
              series={split.map((s) => ({ name: s.is_other ? "other" : s.breakdown_value || "(empty)", data: s.data }))}
              label="Event volume by breakdown value"
              height={220}
            />
          ) : (
            <p className="muted">No breakdown values in this window.</p>
          )}
        </>
      )}
    </section>
  );
}
