import type { Schemas } from "../api/client";

type Source = Schemas["DataSourceResponse"];
type ScanConfig = Schemas["ScanConfigResponse"];
type Interval = Schemas["ScanInterval"];

export const INTERVALS: Interval[] = ["15m", "1h", "6h", "1d", "1w"];
export const ACTIVE_JOB_STATUSES = ["pending", "running"];

export type Health = "healthy" | "failing" | "untested" | "stale";
const STALE_AFTER_MS = 7 * 24 * 3600 * 1000;

/** A data source's connection health from its last test: a success older than a week is stale. */
export function sourceHealth(source: Pick<Source, "last_test_at" | "last_test_status">, now: Date = new Date()): Health {
  if (!source.last_test_status || !source.last_test_at) return "untested";
  if (source.last_test_status === "failed") return "failing";
  return now.getTime() - new Date(source.last_test_at).getTime() > STALE_AFTER_MS ? "stale" : "healthy";
}

export const HEALTH_TONES: Record<Health, string> = { healthy: "success", failing: "danger", untested: "neutral", stale: "warning" };

export type GroupRuleForm = { name: string; condition_logic: "all" | "any"; conditions: { field: string; pattern: string }[] };

/** The scan form as the inputs hold it: text everywhere, lists as text, numbers as text. */
export type ScanForm = {
  name: string;
  data_source_id: string;
  base_query: string;
  time_column: string;
  interval: "" | Interval;
  event_type_mode: "column" | "fixed";
  event_type_column: string;
  event_type_id: string;
  event_name_format: string;
  json_value_paths: string;
  metric_breakdown_columns: string;
  metric_breakdown_values_limit: string;
  distribution_drift_fields: string;
  cardinality_threshold: string;
  replay_chunk_interval: "" | Interval;
  scan_lookback_hours: string;
  scan_row_limit: string;
  metrics_row_limit: string;
  app_version_column: string;
  app_version_keep_releases: string;
  event_group_rules: GroupRuleForm[];
};

const text = (value: string | number | null | undefined) => (value === null || value === undefined ? "" : String(value));

export function scanToForm(scan?: ScanConfig): ScanForm {
  return {
    name: text(scan?.name),
    data_source_id: text(scan?.data_source_id),
    base_query: scan?.base_query ?? "SELECT * FROM events",
    time_column: text(scan?.time_column),
    interval: scan?.interval ?? "",
    event_type_mode: scan?.event_type_id ? "fixed" : "column",
    event_type_column: text(scan?.event_type_column),
    event_type_id: text(scan?.event_type_id),
    event_name_format: text(scan?.event_name_format),
    json_value_paths: (scan?.json_value_paths ?? []).join("\n"),
    metric_breakdown_columns: (scan?.metric_breakdown_columns ?? []).join(", "),
    metric_breakdown_values_limit: text(scan?.metric_breakdown_values_limit),
    distribution_drift_fields: (scan?.distribution_drift_fields ?? []).join(", "),
    cardinality_threshold: text(scan?.cardinality_threshold ?? 100),
    replay_chunk_interval: scan?.replay_chunk_interval ?? "",
    scan_lookback_hours: text(scan?.scan_lookback_hours),
    scan_row_limit: text(scan?.scan_row_limit),
    metrics_row_limit: text(scan?.metrics_row_limit),
    app_version_column: text(scan?.app_version_column),
    app_version_keep_releases: text(scan?.app_version_keep_releases),
    event_group_rules: (scan?.event_group_rules ?? []).map((r) => ({
      name: r.name,
      condition_logic: r.condition_logic ?? "all",
      conditions: r.conditions.map((c) => ({ field: c.field, pattern: c.pattern })),
    })),
  };
}

/** "a, b\nc" → ["a", "b", "c"]; `lines` keeps commas inside an entry. */
export function splitList(value: string, lines = false): string[] {
  return value
    .split(lines ? /\n/ : /[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const orNull = (value: string) => value.trim() || null;
/** Empty means "not set"; anything else goes to the API as typed, so its message explains a bad value. */
const numberOrNull = (value: string): number | null => (value.trim() === "" ? null : Number(value.trim()));

/** The body of ScanConfigUpdate (and, with data_source_id, ScanConfigCreate): empty inputs clear the setting. */
export function formToBody(form: ScanForm): Omit<Schemas["ScanConfigCreate"], "data_source_id"> {
  const fixed = form.event_type_mode === "fixed";
  const cardinality = numberOrNull(form.cardinality_threshold);
  return {
    name: form.name,
    base_query: form.base_query,
    time_column: orNull(form.time_column),
    interval: form.interval || null,
    event_type_column: fixed ? null : orNull(form.event_type_column),
    event_type_id: fixed ? orNull(form.event_type_id) : null,
    event_name_format: orNull(form.event_name_format),
    json_value_paths: splitList(form.json_value_paths, true),
    metric_breakdown_columns: splitList(form.metric_breakdown_columns),
    metric_breakdown_values_limit: numberOrNull(form.metric_breakdown_values_limit),
    distribution_drift_fields: splitList(form.distribution_drift_fields),
    ...(cardinality === null ? {} : { cardinality_threshold: cardinality }), // the API keeps its default of 100
    replay_chunk_interval: form.replay_chunk_interval || null,
    scan_lookback_hours: numberOrNull(form.scan_lookback_hours),
    scan_row_limit: numberOrNull(form.scan_row_limit),
    metrics_row_limit: numberOrNull(form.metrics_row_limit),
    app_version_column: orNull(form.app_version_column),
    app_version_keep_releases: numberOrNull(form.app_version_keep_releases),
    event_group_rules: form.event_group_rules.map((r) => ({
      name: r.name.trim(),
      condition_logic: r.condition_logic,
      conditions: r.conditions.map((c) => ({ field: c.field.trim(), pattern: c.pattern })),
    })),
  };
}

/** The API's message for a field, including messages about its items ("json_value_paths.0"). */
export function fieldError(errors: Record<string, string>, key: string): string | undefined {
  if (errors[key]) return errors[key];
  const nested = Object.keys(errors).find((k) => k.startsWith(`${key}.`));
  return nested ? errors[nested] : undefined;
}

/** Monitoring = the scan buckets rows by its time column every interval, so it collects volume. */
export function isMonitoring(form: Pick<ScanForm, "time_column" | "interval">): boolean {
  return Boolean(form.time_column.trim() && form.interval);
}

export function jobDuration(job: { started_at: string | null; completed_at: string | null }, now: Date = new Date()): string {
  if (!job.started_at) return "—";
  const end = job.completed_at ? new Date(job.completed_at) : now;
  const seconds = Math.max(0, Math.round((end.getTime() - new Date(job.started_at).getTime()) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

// Shown elsewhere in a job's row (its window, trigger and kind).
const SUMMARY_SHOWN_ELSEWHERE = new Set(["time_from", "time_to", "trigger", "mode"]);

/** The counters of a job's result summary as [label, value] pairs (nested objects and lists left out). */
export function summaryCounters(summary: Record<string, unknown> | null | undefined): [string, string][] {
  if (!summary) return [];
  return Object.entries(summary)
    .filter(([k, v]) => !SUMMARY_SHOWN_ELSEWHERE.has(k) && (typeof v === "number" || typeof v === "string" || typeof v === "boolean"))
    .map(([k, v]) => [k.replace(/_/g, " "), typeof v === "number" ? v.toLocaleString("en", { maximumFractionDigits: 2 }) : String(v)]);
}

/** An ISO instant as the value of a datetime-local input (local time, minutes). */
export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A datetime-local value as an ISO instant for the API; empty or invalid stays as typed so the API explains. */
export function fromLocalInput(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

/** Each version's share (%) of all events in every bucket with a total (0 where it had none), so they stack. */
export function adoptionShares(
  series: { version: string; data: { bucket: string; count: number }[] }[],
  totals: { bucket: string; count: number }[],
): { version: string; data: [string, number][] }[] {
  const buckets = totals.filter((t) => t.count > 0).sort((a, b) => a.bucket.localeCompare(b.bucket));
  return series.map((s) => {
    const counts = new Map(s.data.map((p) => [p.bucket, p.count]));
    return {
      version: s.version,
      data: buckets.map((t): [string, number] => [t.bucket, Math.round(((counts.get(t.bucket) ?? 0) / t.count) * 1000) / 10]),
    };
  });
}

export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** Heatmap cells as ECharts [hour, weekday, count] triples, every one of the 7×24 cells present. */
export function heatmapData(cells: { weekday: number; hour: number; count: number }[]): [number, number, number][] {
  const counts = new Map(cells.map((c) => [`${c.weekday}:${c.hour}`, c.count]));
  const data: [number, number, number][] = [];
  for (let weekday = 0; weekday < 7; weekday++)
    for (let hour = 0; hour < 24; hour++) data.push([hour, weekday, counts.get(`${weekday}:${hour}`) ?? 0]);
  return data;
}
