import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, errorMessage, unwrap, type Schemas } from "../api/client";
import { useCanEdit, useSession } from "../auth/session";
import { Badge } from "../components/Badge";
import { ConfirmDialog } from "../components/Dialog";
import { EmptyState } from "../components/EmptyState";
import { FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { useToast } from "../components/Toast";
import { formatDateTime, relativeTime } from "../lib/format";
import { summaryCounters } from "../lib/observe";
import { VolumeCard } from "./MetricsCards";
import { JOB_TONES, JobProgress } from "./ScanDetailPage";
import { ScanFormDialog } from "./ScanFormDialog";

type Scan = Schemas["ScanConfigResponse"];
type Job = Schemas["ScanJobResponse"];
const ACTIVE = ["pending", "running"];


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
      {creating && <ScanFormDialog slug={slug} onClose={() => setCreating(false)} />}
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
          <h2><Link to={`/p/${slug}/scans/${scan.id}`}>{scan.name}</Link></h2>
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
      <Link className="small" to={`/p/${slug}/scans/${scan.id}`}>Job history, replay and charts →</Link>
      {editing && <ScanFormDialog slug={slug} scan={scan} onClose={() => setEditing(false)} />}
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
  const counters = summaryCounters(summary).slice(0, 6);
  return counters.length ? counters.map(([k, v]) => `${k}: ${v}`).join(" · ") : "—";
}

