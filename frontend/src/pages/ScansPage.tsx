import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "../api/client";
import { useCanEdit, useSession } from "../auth/session";
import { Badge } from "../components/Badge";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { EmptyState } from "../components/EmptyState";
import { Field, FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { useToast } from "../components/Toast";
import { formatDateTime, relativeTime } from "../lib/format";
import { useEventTypes } from "../lib/queries";
import { VolumeCard } from "./MetricsCards";

type Scan = Schemas["ScanConfigResponse"];
type Job = Schemas["ScanJobResponse"];
const ACTIVE = ["pending", "running"];
const INTERVALS: Schemas["ScanInterval"][] = ["15m", "1h", "6h", "1d", "1w"];

const JOB_TONES: Record<string, string> = {
  pending: "neutral",
  running: "info",
  completed: "success",
  failed: "danger",
  cancelled: "muted",
};

export function ScansPage() {
  const { slug = "" } = useParams();
  const { user } = useSession();
  const isOwner = user?.role === "owner";
  const [creating, setCreating] = useState(false);
  const scans = useQuery({
    queryKey: ["scans", slug],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/scans", { params: { path: { slug } } })),
  });
  const newButton = isOwner && (
    <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>New scan</button>
  );
  return (
    <div className="page">
      <PageHeader title="Scans & volume" subtitle="Scans read the warehouse: they discover events, fields and values, and collect volume." actions={newButton} />
      <VolumeCard slug={slug} />
      <FormError error={scans.error} />
      {scans.data?.length === 0 && (
        <EmptyState title="No scans yet" action={newButton}>
          {isOwner ? (
            <>A scan runs a query on a <Link to="/data-sources">data source</Link> and keeps the plan in step with what really lands.</>
          ) : (
            "An owner sets up scans of the warehouse."
          )}
        </EmptyState>
      )}
      {scans.data?.map((scan) => <ScanCard key={scan.id} slug={slug} scan={scan} isOwner={isOwner} />)}
      {creating && <ScanDialog slug={slug} onClose={() => setCreating(false)} />}
    </div>
  );
}

function ScanCard({ slug, scan, isOwner }: { slug: string; scan: Scan; isOwner: boolean }) {
  const canEdit = useCanEdit();
  const client = useQueryClient();
  const notify = useToast();
  const [deleting, setDeleting] = useState(false);
  const [editing, setEditing] = useState(false);
  const path = { path: { slug, scan_id: scan.id } };
  const jobs = useQuery({
    queryKey: ["scan-jobs", slug, scan.id],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/scans/{scan_id}/jobs", { params: { ...path, query: { limit: 5 } } })),
    refetchInterval: (q) => (q.state.data?.some((j) => ACTIVE.includes(j.status)) ? 1000 : false),
  });
  const active = jobs.data?.find((j) => ACTIVE.includes(j.status));
  const refresh = () => {
    client.invalidateQueries({ queryKey: ["scan-jobs", slug, scan.id] });
  };
  const run = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/projects/{slug}/scans/{scan_id}/run", { params: path })),
    onSuccess: () => {
      notify(`Scan “${scan.name}” started`);
      refresh();
    },
    onError: (e) => notify(errorMessage(e), "error"),
  });
  const cancel = useMutation({
    mutationFn: (job: Job) =>
      unwrap(api.POST("/api/v1/projects/{slug}/scans/{scan_id}/jobs/{job_id}/cancel", { params: { path: { slug, scan_id: scan.id, job_id: job.id } } })),
    onSuccess: () => {
      notify("Cancellation requested");
      refresh();
    },
    onError: (e) => notify(errorMessage(e), "error"),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/projects/{slug}/scans/{scan_id}", { params: path })),
    onSuccess: () => {
      notify("Scan deleted");
      client.invalidateQueries({ queryKey: ["scans", slug] });
    },
  });
  return (
    <section className="card">
      <div className="section-head">
        <div>
          <h2>{scan.name}</h2>
          <p className="muted small">
            {scan.interval ? `Every ${scan.interval}` : "Manual runs"} · time column <code>{scan.time_column || "—"}</code> · event type column{" "}
            <code>{scan.event_type_column || "—"}</code>
          </p>
        </div>
        <div className="page-actions">
          {canEdit &&
            (active ? (
              <button type="button" className="btn" disabled={cancel.isPending || active.cancel_requested} onClick={() => cancel.mutate(active)}>
                {active.cancel_requested ? "Cancelling…" : "Cancel run"}
              </button>
            ) : (
              <button type="button" className="btn btn-primary" disabled={run.isPending} onClick={() => run.mutate()}>
                Run now
              </button>
            ))}
          {isOwner && (
            <>
              <button type="button" className="btn" onClick={() => setEditing(true)}>Edit</button>
              <button type="button" className="btn btn-danger-outline" onClick={() => setDeleting(true)}>Delete</button>
            </>
          )}
        </div>
      </div>
      <pre className="code-block">{scan.base_query}</pre>
      {active && <JobProgress job={active} />}
      <FormError error={jobs.error} />
      {jobs.data && jobs.data.length > 0 && (
        <table className="table table-compact">
          <thead>
            <tr>
              <th>Job</th>
              <th>Status</th>
              <th>Started</th>
              <th>Result</th>
            </tr>
          </thead>
          <tbody>
            {jobs.data.map((j) => (
              <tr key={j.id}>
                <td className="small">{j.kind} · {j.trigger}</td>
                <td><Badge tone={JOB_TONES[j.status] ?? "neutral"}>{j.status}</Badge></td>
                <td className="small" title={formatDateTime(j.started_at ?? j.created_at)}>{relativeTime(j.started_at ?? j.created_at)}</td>
                <td className="small">{j.error_message ? <span className="danger-text">{j.error_message}</span> : summarize(j.result_summary)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && <ScanDialog slug={slug} scan={scan} onClose={() => setEditing(false)} />}
      <ConfirmDialog
        open={deleting}
        title="Delete scan?"
        message={<p>“{scan.name}” and its job history will be deleted; the plan it built stays.</p>}
        confirmLabel="Delete scan"
        danger
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onConfirm={() => remove.mutate()}
        onClose={() => setDeleting(false)}
      />
    </section>
  );
}

function summarize(summary: Record<string, unknown> | null | undefined): string {
  if (!summary) return "—";
  return Object.entries(summary)
    .filter(([, v]) => typeof v === "number" || typeof v === "string" || typeof v === "boolean")
    .slice(0, 6)
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${v}`)
    .join(" · ");
}

function JobProgress({ job }: { job: Job }) {
  return (
    <div className="job-progress" role="status" aria-live="polite">
      <div className="progress-bar" aria-hidden>
        <span />
      </div>
      <div className="small">
        <strong>{job.status === "pending" ? "Waiting for a worker…" : "Running…"}</strong> {summarize(job.result_summary)}
      </div>
    </div>
  );
}

function ScanDialog({ slug, scan, onClose }: { slug: string; scan?: Scan; onClose: () => void }) {
  const client = useQueryClient();
  const notify = useToast();
  const types = useEventTypes(slug);
  const sources = useQuery({ queryKey: ["data-sources"], queryFn: () => unwrap(api.GET("/api/v1/data-sources")) });
  const [form, setForm] = useState({
    name: scan?.name ?? "",
    data_source_id: scan?.data_source_id ?? "",
    base_query: scan?.base_query ?? "SELECT * FROM events",
    time_column: scan?.time_column ?? "",
    event_type_column: scan?.event_type_column ?? "",
    event_type_id: scan?.event_type_id ?? "",
    event_name_format: scan?.event_name_format ?? "",
    interval: (scan?.interval ?? "") as "" | Schemas["ScanInterval"],
  });
  const set = (key: keyof typeof form, value: string) => setForm((f) => ({ ...f, [key]: value }));
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
    refetchInterval: (q) => (q.state.data && ACTIVE.includes(q.state.data.status) ? 700 : false),
  });
  const save = useMutation({
    mutationFn: () => {
      const body = {
        name: form.name,
        base_query: form.base_query,
        time_column: form.time_column || null,
        event_type_column: form.event_type_column || null,
        event_type_id: form.event_type_id || null,
        event_name_format: form.event_name_format || null,
        interval: form.interval || null,
      };
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
      onClose();
    },
  });
  const errors = save.error instanceof ApiError ? save.error.fields : {};
  const result = preview.data?.result_summary as
    | { columns?: { name: string; type_name: string }[]; rows?: Record<string, unknown>[] }
    | null
    | undefined;
  const previewing = startPreview.isPending || (preview.data && ACTIVE.includes(preview.data.status));
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
        <Field label="Name" error={errors.name}>
          <input required autoFocus value={form.name} onChange={(e) => set("name", e.target.value)} />
        </Field>
        <Field label="Data source" error={errors.data_source_id}>
          <select required disabled={Boolean(scan)} value={form.data_source_id} onChange={(e) => set("data_source_id", e.target.value)}>
            <option value="">Choose…</option>
            {sources.data?.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        </Field>
        <div className="span-2">
          <Field label="Base query" hint="One read-only SELECT; it is wrapped as a subquery." error={errors.base_query}>
            <textarea rows={5} className="mono" required value={form.base_query} onChange={(e) => set("base_query", e.target.value)} />
          </Field>
        </div>
        <Field label="Time column" hint="Needed to collect volume" error={errors.time_column}>
          <input value={form.time_column} onChange={(e) => set("time_column", e.target.value)} />
        </Field>
        <Field label="Collect every" error={errors.interval}>
          <select value={form.interval} onChange={(e) => set("interval", e.target.value)}>
            <option value="">Manual runs only</option>
            {INTERVALS.map((i) => <option key={i}>{i}</option>)}
          </select>
        </Field>
        <Field label="Event type column" hint="Column naming each row's event type" error={errors.event_type_column}>
          <input value={form.event_type_column} onChange={(e) => set("event_type_column", e.target.value)} />
        </Field>
        <Field label="…or one event type" error={errors.event_type_id}>
          <select value={form.event_type_id} onChange={(e) => set("event_type_id", e.target.value)}>
            <option value="">—</option>
            {types.data?.map((t) => <option key={t.id} value={t.id}>{t.display_name}</option>)}
          </select>
        </Field>
        <div className="span-2">
          <Field label="Event name format" hint="e.g. {screen_name}:{action}" error={errors.event_name_format}>
            <input value={form.event_name_format} onChange={(e) => set("event_name_format", e.target.value)} />
          </Field>
        </div>
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

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
