import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { api, ApiError, unwrap, type Schemas } from "../api/client";
import { Dialog } from "../components/Dialog";
import { Field, FormError } from "../components/Field";
import { useToast } from "../components/Toast";
import { useEventTypes } from "../lib/queries";
import {
  ACTIVE_JOB_STATUSES,
  fieldError,
  formToBody,
  INTERVALS,
  isMonitoring,
  scanToForm,
  type GroupRuleForm,
  type ScanForm,
} from "../lib/observe";

type Scan = Schemas["ScanConfigResponse"];
type PreviewResult = { columns?: { name: string; type_name: string }[]; rows?: Record<string, unknown>[] } | null | undefined;

export function ScanFormDialog({ slug, scan, onClose }: { slug: string; scan?: Scan; onClose: () => void }) {
  const client = useQueryClient();
  const notify = useToast();
  const types = useEventTypes(slug);
  const columnsListId = useId();
  const sources = useQuery({ queryKey: ["data-sources"], queryFn: () => unwrap(api.GET("/api/v1/data-sources")) });
  const [form, setForm] = useState<ScanForm>(() => scanToForm(scan));
  const [advanced, setAdvanced] = useState(false);
  const set = <K extends keyof ScanForm>(key: K, value: ScanForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const [previewId, setPreviewId] = useState<string | null>(null);
  const startPreview = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/projects/{slug}/scans/preview", {
          params: { path: { slug } },
          body: { data_source_id: form.data_source_id, base_query: form.base_query, time_column: form.time_column || null, limit: 10 },
        }),
      ),
    onSuccess: (job) => setPreviewId(job.id),
  });
  const preview = useQuery({
    queryKey: ["scan-preview", previewId],
    enabled: Boolean(previewId),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/scans/preview-jobs/{job_id}", { params: { path: { slug, job_id: previewId! } } })),
    refetchInterval: (q) => (q.state.data && ACTIVE_JOB_STATUSES.includes(q.state.data.status) ? 700 : false),
  });
  const save = useMutation({
    mutationFn: () => {
      const body = formToBody(form);
      return scan
        ? unwrap(api.PATCH("/api/v1/projects/{slug}/scans/{scan_id}", { params: { path: { slug, scan_id: scan.id } }, body }))
        : unwrap(
            api.POST("/api/v1/projects/{slug}/scans", {
              params: { path: { slug } },
              body: { ...body, data_source_id: form.data_source_id },
            }),
          );
    },
    onSuccess: (saved) => {
      notify(scan ? `Scan “${saved.name}” saved` : `Scan “${saved.name}” created`);
      client.invalidateQueries({ queryKey: ["scans", slug] });
      client.invalidateQueries({ queryKey: ["scan", slug, saved.id] });
      onClose();
    },
    onError: (e) => {
      // A message about an advanced setting must be visible next to its field.
      if (e instanceof ApiError && Object.keys(e.fields).some((k) => ADVANCED_KEYS.some((a) => k === a || k.startsWith(`${a}.`))))
        setAdvanced(true);
    },
  });
  const errors = save.error instanceof ApiError ? save.error.fields : {};
  const err = (key: string) => fieldError(errors, key);
  const result = preview.data?.result_summary as PreviewResult;
  const columns = result?.columns?.map((c) => c.name) ?? [];
  const previewing = startPreview.isPending || (preview.data && ACTIVE_JOB_STATUSES.includes(preview.data.status));
  const column = (key: keyof ScanForm, label: string, hint: string) => (
    <Field label={label} hint={hint} error={err(key)}>
      <input list={columnsListId} value={form[key] as string} onChange={(e) => set(key, e.target.value)} />
    </Field>
  );
  const number = (key: keyof ScanForm, label: string, hint: string) => (
    <Field label={label} hint={hint} error={err(key)}>
      <input type="number" min={1} value={form[key] as string} onChange={(e) => set(key, e.target.value)} />
    </Field>
  );
  return (
    <Dialog
      open
      wide
      title={scan ? `Edit scan ${scan.name}` : "New scan"}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="button" className="btn" disabled={!form.data_source_id || Boolean(previewing)} onClick={() => startPreview.mutate()}>
            {previewing ? "Previewing…" : "Preview query"}
          </button>
          <button type="submit" form="scan-form" className="btn btn-primary" disabled={save.isPending}>{scan ? "Save scan" : "Create scan"}</button>
        </>
      }
    >
      <form id="scan-form" className="form form-grid" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <datalist id={columnsListId}>
          {columns.map((c) => <option key={c} value={c} />)}
        </datalist>
        <Field label="Name" error={err("name")}>
          <input required autoFocus value={form.name} onChange={(e) => set("name", e.target.value)} />
        </Field>
        <Field label="Data source" error={err("data_source_id")}>
          <select required disabled={Boolean(scan)} value={form.data_source_id} onChange={(e) => set("data_source_id", e.target.value)}>
            <option value="">Choose…</option>
            {sources.data?.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        </Field>
        <div className="span-2">
          <Field label="Base query" hint="One read-only SELECT; it is wrapped as a subquery. Preview it to get its columns as suggestions below." error={err("base_query")}>
            <textarea rows={4} className="mono" required value={form.base_query} onChange={(e) => set("base_query", e.target.value)} />
          </Field>
        </div>

        <div className="form-section">
          <h3>Monitoring</h3>
          <p className="muted small">
            A scan with a <strong>time column</strong> and an <strong>interval</strong> is a monitoring scan: every interval it
            counts the rows of each completed time bucket, so volume charts, anomalies and replays work. Without them it only
            catalogs events and fields when run.
          </p>
        </div>
        {column("time_column", "Time column", "Timestamp of each row")}
        <Field label="Collect every" hint={isMonitoring(form) ? "Monitoring is on" : "Manual runs only: no volume is collected"} error={err("interval")}>
          <select value={form.interval} onChange={(e) => set("interval", e.target.value as ScanForm["interval"])}>
            <option value="">Manual runs only</option>
            {INTERVALS.map((i) => <option key={i}>{i}</option>)}
          </select>
        </Field>

        <div className="form-section">
          <h3>Event types and names</h3>
        </div>
        <fieldset className="span-2 radio-row" aria-label="Event type comes from">
          <label>
            <input type="radio" name="event_type_mode" checked={form.event_type_mode === "column"} onChange={() => set("event_type_mode", "column")} />
            A column names each row's event type
          </label>
          <label>
            <input type="radio" name="event_type_mode" checked={form.event_type_mode === "fixed"} onChange={() => set("event_type_mode", "fixed")} />
            Every row is one event type
          </label>
        </fieldset>
        {form.event_type_mode === "column"
          ? column("event_type_column", "Event type column", "Its values become event types")
          : (
            <Field label="Event type" hint="All rows are events of this type" error={err("event_type_id")}>
              <select value={form.event_type_id} onChange={(e) => set("event_type_id", e.target.value)}>
                <option value="">—</option>
                {types.data?.map((t) => <option key={t.id} value={t.id}>{t.display_name}</option>)}
              </select>
            </Field>
          )}
        <Field label="Event name format" hint="Columns in braces, e.g. {screen}:{event_name}" error={err("event_name_format")}>
          <input value={form.event_name_format} onChange={(e) => set("event_name_format", e.target.value)} />
        </Field>

        <div className="form-section inline-row">
          <button type="button" className="btn btn-ghost btn-xs" aria-expanded={advanced} onClick={() => setAdvanced((a) => !a)}>
            {advanced ? "▾" : "▸"} Advanced settings
          </button>
          <span className="muted small">fields, breakdowns, limits, app versions, event groups</span>
        </div>
        {advanced && (
          <>
            <div className="span-2">
              <Field label="JSON value paths" hint="One per line: <json_column>.<path>, e.g. properties.screen.name" error={err("json_value_paths")}>
                <textarea rows={2} className="mono" value={form.json_value_paths} onChange={(e) => set("json_value_paths", e.target.value)} />
              </Field>
            </div>
            <Field label="Breakdown columns" hint="Comma-separated columns to split volume by" error={err("metric_breakdown_columns")}>
              <input list={columnsListId} value={form.metric_breakdown_columns} onChange={(e) => set("metric_breakdown_columns", e.target.value)} />
            </Field>
            {number("metric_breakdown_values_limit", "Breakdown values limit", "Top values kept per column; the rest is “other”")}
            <Field label="Distribution drift fields" hint="Comma-separated columns whose value mix is watched" error={err("distribution_drift_fields")}>
              <input list={columnsListId} value={form.distribution_drift_fields} onChange={(e) => set("distribution_drift_fields", e.target.value)} />
            </Field>
            {number("cardinality_threshold", "Cardinality threshold", "More distinct values than this: a field is not an enum (default 100)")}
            <Field label="Replay chunk interval" hint="Collections read the warehouse in chunks this long (≥ interval). Automatic: chunks start at 1d (or the interval if longer), grow while reads are quick, and are halved when one hits the metrics row limit" error={err("replay_chunk_interval")}>
              <select value={form.replay_chunk_interval} onChange={(e) => set("replay_chunk_interval", e.target.value as ScanForm["replay_chunk_interval"])}>
                <option value="">Automatic (from 1d, growing while quick)</option>
                {INTERVALS.map((i) => <option key={i}>{i}</option>)}
              </select>
            </Field>
            {number("scan_lookback_hours", "Scan lookback (hours)", "Catalog runs read only this many recent hours")}
            {number("scan_row_limit", "Scan row limit", "Most rows a catalog run reads")}
            {number("metrics_row_limit", "Metrics row limit", "Most rows a collection reads per window")}
            {column("app_version_column", "App version column", "Enables per-version volume and release checks")}
            {number("app_version_keep_releases", "App versions kept", "Newest releases charted separately")}
            <GroupRules rules={form.event_group_rules} errors={errors} listId={columnsListId} onChange={(rules) => set("event_group_rules", rules)} />
          </>
        )}
        <div className="span-2">
          {!Object.keys(errors).length && <FormError error={save.error} />}
          <FormError error={startPreview.error ?? preview.error} />
          {preview.data?.status === "failed" && <p className="form-error" role="alert">{preview.data.error_message}</p>}
          {previewing && <div className="job-progress"><div className="progress-bar" aria-hidden><span /></div><span className="small">Running the query in the warehouse…</span></div>}
          {result?.columns && (
            <div className="table-wrap preview-table">
              <table className="table table-compact" aria-label="Query preview">
                <thead>
                  <tr>{result.columns.map((c) => <th key={c.name}>{c.name} <span className="muted">{c.type_name}</span></th>)}</tr>
                </thead>
                <tbody>
                  {result.rows?.map((row, i) => (
                    <tr key={i}>{result.columns!.map((c) => <td key={c.name} className="small">{formatCell(row[c.name])}</td>)}</tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      </form>
    </Dialog>
  );
}

const ADVANCED_KEYS = [
  "json_value_paths", "metric_breakdown_columns", "metric_breakdown_values_limit", "distribution_drift_fields", "cardinality_threshold",
  "replay_chunk_interval", "scan_lookback_hours", "scan_row_limit", "metrics_row_limit", "app_version_column",
  "app_version_keep_releases", "event_group_rules",
];

function GroupRules({ rules, errors, listId, onChange }: {
  rules: GroupRuleForm[];
  errors: Record<string, string>;
  listId: string;
  onChange: (rules: GroupRuleForm[]) => void;
}) {
  const update = (i: number, rule: GroupRuleForm) => onChange(rules.map((r, j) => (j === i ? rule : r)));
  const general = errors.event_group_rules;
  return (
    <div className="form-section stack" style={{ gap: 8 }}>
      <div className="section-head">
        <div>
          <h3>Event groups</h3>
          <p className="muted small">Events whose fields match a rule's regular expressions are tagged with the group's name.</p>
        </div>
        <button type="button" className="btn btn-xs" onClick={() => onChange([...rules, { name: "", condition_logic: "all", conditions: [{ field: "", pattern: "" }] }])}>
          Add rule
        </button>
      </div>
      {general && <p className="field-error" role="alert">{general}</p>}
      {rules.map((rule, i) => (
        <div key={i} className="rule-box" role="group" aria-label={`Event group rule ${i + 1}`}>
          <div className="rule-row">
            <Field label="Group name" error={fieldError(errors, `event_group_rules.${i}.name`)}>
              <input value={rule.name} onChange={(e) => update(i, { ...rule, name: e.target.value })} />
            </Field>
            <Field label="Match" error={errors[`event_group_rules.${i}.condition_logic`]}>
              <select value={rule.condition_logic} onChange={(e) => update(i, { ...rule, condition_logic: e.target.value as "all" | "any" })}>
                <option value="all">all conditions</option>
                <option value="any">any condition</option>
              </select>
            </Field>
            <button type="button" className="btn btn-ghost btn-xs danger-text" onClick={() => onChange(rules.filter((_, j) => j !== i))}>
              Remove rule
            </button>
          </div>
          {errors[`event_group_rules.${i}.conditions`] && <p className="field-error" role="alert">{errors[`event_group_rules.${i}.conditions`]}</p>}
          {rule.conditions.map((c, k) => (
            <div key={k} className="rule-row">
              <Field label={`Field ${k + 1}`} error={fieldError(errors, `event_group_rules.${i}.conditions.${k}.field`)}>
                <input list={listId} value={c.field} onChange={(e) => update(i, { ...rule, conditions: rule.conditions.map((x, m) => (m === k ? { ...x, field: e.target.value } : x)) })} />
              </Field>
              <Field label={`Pattern ${k + 1}`} hint="Regular expression" error={fieldError(errors, `event_group_rules.${i}.conditions.${k}.pattern`)}>
                <input className="mono" value={c.pattern} onChange={(e) => update(i, { ...rule, conditions: rule.conditions.map((x, m) => (m === k ? { ...x, pattern: e.target.value } : x)) })} />
              </Field>
              <button
                type="button"
                className="btn btn-ghost btn-xs"
                aria-label={`Remove condition ${k + 1} of rule ${i + 1}`}
                disabled={rule.conditions.length === 1}
                onClick={() => update(i, { ...rule, conditions: rule.conditions.filter((_, m) => m !== k) })}
              >
                ×
              </button>
            </div>
          ))}
          <div>
            <button type="button" className="btn btn-ghost btn-xs" onClick={() => update(i, { ...rule, conditions: [...rule.conditions, { field: "", pattern: "" }] })}>
              Add condition
            </button>
          </div>
        </div>
      ))}
    </div>
  );
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
