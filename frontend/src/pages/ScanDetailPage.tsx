import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "../api/client";
import { useCanEdit, useSession } from "../auth/session";
import { Badge } from "../components/Badge";
import { Dialog } from "../components/Dialog";
import { EmptyState } from "../components/EmptyState";
import { Field, FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { useToast } from "../components/Toast";
import { formatDateTime, relativeTime } from "../lib/format";
import { ACTIVE_JOB_STATUSES, fromLocalInput, jobDuration, summaryCounters, toLocalInput } from "../lib/observe";
import { ScanCharts } from "./ScanCharts";
import { ScanFormDialog } from "./ScanFormDialog";

type Scan = Schemas["ScanConfigResponse"];
type Job = Schemas["ScanJobResponse"];

export const JOB_TONES: Record<string, string> = {
  pending: "neutral",
  running: "info",
  completed: "success",
  failed: "danger",
  cancelled: "muted",
};

const KIND_LABELS: Record<string, string> = {
  catalog: "Catalog run",
  collect: "Volume collection",
  replay: "Metric replay",
  apply_groups: "Apply event groups",
};

export function ScanDetailPage() {
  const { slug = "", scanId = "" } = useParams();
  const { user } = useSession();
  const isOwner = user?.role === "owner";
  const canEdit = useCanEdit();
  const client = useQueryClient();
  const notify = useToast();
  const [editing, setEditing] = useState(false);
  const [replaying, setReplaying] = useState(false);
  const path = { path: { slug, scan_id: scanId } };
  const scan = useQuery({
    queryKey: ["scan", slug, scanId],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/scans/{scan_id}", { params: path })),
  });
  const jobs = useQuery({
    queryKey: ["scan-jobs", slug, scanId, "history"],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/scans/{scan_id}/jobs", { params: { ...path, query: { limit: 100 } } })),
    refetchInterval: (q) => (q.state.data?.some((j) => ACTIVE_JOB_STATUSES.includes(j.status)) ? 1000 : false),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ["scan-jobs", slug, scanId] });
  const started = (what: string) => () => {
    notify(`${what} started`);
    refresh();
  };
  const run = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/projects/{slug}/scans/{scan_id}/run", { params: path })),
    onSuccess: started("Scan run"),
    onError: (e) => notify(errorMessage(e), "error"),
  });
  const applyGroups = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/projects/{slug}/scans/{scan_id}/event-groups/apply", { params: path })),
    onSuccess: started("Applying event groups"),
    onError: (e) => notify(errorMessage(e), "error"),
  });
  const cancel = useMutation({
    mutationFn: (job: Job) =>
      unwrap(api.POST("/api/v1/projects/{slug}/scans/{scan_id}/jobs/{job_id}/cancel", { params: { path: { slug, scan_id: scanId, job_id: job.id } } })),
    onSuccess: () => {
      notify("Cancellation requested");
      refresh();
    },
    onError: (e) => notify(errorMessage(e), "error"),
  });
  const sorted = [...(jobs.data ?? [])].sort((a, b) => b.created_at.localeCompare(a.created_at));
  const active = sorted.find((j) => ACTIVE_JOB_STATUSES.includes(j.status));
  const config = scan.data;
  const actions = config && (
    <>
      {canEdit &&
        (active ? (
          <button type="button" className="btn" disabled={cancel.isPending || active.cancel_requested} onClick={() => cancel.mutate(active)}>
            {active.cancel_requested ? "Cancelling…" : "Cancel run"}
          </button>
        ) : (
          <button type="button" className="btn btn-primary" disabled={run.isPending} onClick={() => run.mutate()}>Run now</button>
        ))}
      {canEdit && (
        <button
          type="button"
          className="btn"
          disabled={applyGroups.isPending || Boolean(active)}
          title={config.event_group_rules.length ? "Tag the catalog's events with the scan's event group rules" : "This scan has no event group rules"}
          onClick={() => applyGroups.mutate()}
        >
          Apply event groups
        </button>
      )}
      {isOwner && <button type="button" className="btn" onClick={() => setReplaying(true)}>Replay…</button>}
      {isOwner && <button type="button" className="btn" onClick={() => setEditing(true)}>Edit</button>}
    </>
  );
  return (
    <div className="page">
      <div className="breadcrumbs">
        <Link to={`/p/${slug}/scans`}>Scans & volume</Link> <span aria-hidden>/</span>
      </div>
      <PageHeader title={config?.name ?? "Scan"} subtitle={config ? <ScanSummary scan={config} /> : undefined} actions={actions} />
      <FormError error={scan.error} />
      {config && <pre className="code-block">{config.base_query}</pre>}
      {active && <JobProgress job={active} />}
      <section className="card" aria-label="Job history">
        <div className="section-head">
          <h2>Job history</h2>
          <span className="muted small">{sorted.length ? `${sorted.length} job${sorted.length === 1 ? "" : "s"}, newest first` : ""}</span>
        </div>
        <FormError error={jobs.error} />
        {jobs.data?.length === 0 && <EmptyState title="No jobs yet">Run the scan to catalog events; a monitoring scan collects volume on its own.</EmptyState>}
        {sorted.length > 0 && (
          <div className="table-wrap">
            <table className="table table-compact" aria-label="Scan jobs">
              <thead>
                <tr>
                  <th style={{ width: 230 }}>Job</th>
                  <th>Status</th>
                  <th>Created</th>
                  <th>Duration</th>
                  <th>Result</th>
                  <th><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {sorted.map((j) => (
                  <tr key={j.id}>
                    <td className="small">
                      {KIND_LABELS[j.kind] ?? j.kind}
                      <div className="muted">{j.trigger}{j.attempts > 1 ? ` · attempt ${j.attempts}` : ""}</div>
                      {j.time_from && j.time_to && <div className="muted nowrap">{formatDateTime(j.time_from)} →<br />{formatDateTime(j.time_to)}</div>}
                    </td>
                    <td>
                      <Badge tone={JOB_TONES[j.status] ?? "neutral"}>{j.status}</Badge>
                      {j.cancel_requested && ACTIVE_JOB_STATUSES.includes(j.status) && <div className="muted small">cancelling</div>}
                    </td>
                    <td className="small nowrap" title={formatDateTime(j.created_at)}>{relativeTime(j.created_at)}</td>
                    <td className="small nowrap">{jobDuration(j)}</td>
                    <td className="small">
                      {j.error_message && <div className="danger-text">{j.error_message}</div>}
                      <div className="counters">
                        {summaryCounters(j.result_summary).map(([k, v]) => <span key={k}><span className="muted">{k}</span> {v}</span>)}
                      </div>
                    </td>
                    <td className="right">
                      {canEdit && ACTIVE_JOB_STATUSES.includes(j.status) && !j.cancel_requested && (
                        <button type="button" className="btn btn-ghost btn-xs" disabled={cancel.isPending} onClick={() => cancel.mutate(j)}>Cancel</button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {config && <ScanCharts slug={slug} scan={config} />}
      {editing && config && <ScanFormDialog slug={slug} scan={config} onClose={() => setEditing(false)} />}
      {replaying && config && <ReplayDialog slug={slug} scan={config} onClose={() => setReplaying(false)} onStarted={refresh} />}
    </div>
  );
}

function ScanSummary({ scan }: { scan: Scan }) {
  const monitoring = Boolean(scan.time_column && scan.interval);
  return (
    <>
      {monitoring ? `Monitoring every ${scan.interval}` : "Manual runs (catalog only)"} · time column <code>{scan.time_column || "—"}</code>
      {scan.event_type_column && <> · event type column <code>{scan.event_type_column}</code></>}
      {scan.app_version_column && <> · app version <code>{scan.app_version_column}</code></>}
      {scan.metric_breakdown_columns.length > 0 && <> · breakdowns {scan.metric_breakdown_columns.join(", ")}</>}
    </>
  );
}

export function JobProgress({ job }: { job: Job }) {
  const counters = summaryCounters(job.result_summary);
  return (
    <div className="job-progress" role="status" aria-live="polite">
      <div className="progress-bar" aria-hidden>
        <span />
      </div>
      <div className="small">
        <strong>
          {job.cancel_requested ? "Cancelling…" : job.status === "pending" ? "Waiting for a worker…" : `${KIND_LABELS[job.kind] ?? "Job"} running…`}
        </strong>{" "}
        {job.started_at && <span className="muted">for {jobDuration(job)}</span>}{" "}
        {counters.map(([k, v]) => `${k}: ${v}`).join(" · ")}
      </div>
    </div>
  );
}

function ReplayDialog({ slug, scan, onClose, onStarted }: { slug: string; scan: Scan; onClose: () => void; onStarted: () => void }) {
  const notify = useToast();
  const now = new Date();
  const [from, setFrom] = useState(toLocalInput(new Date(now.getTime() - 24 * 3600 * 1000)));
  const [to, setTo] = useState(toLocalInput(now));
  const replay = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/projects/{slug}/scans/{scan_id}/metrics/replay", {
          params: { path: { slug, scan_id: scan.id } },
          body: { time_from: fromLocalInput(from), time_to: fromLocalInput(to) },
        }),
      ),
    onSuccess: () => {
      notify("Replay started");
      onStarted();
      onClose();
    },
  });
  const errors = replay.error instanceof ApiError ? replay.error.fields : {};
  return (
    <Dialog
      open
      title="Replay metrics"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" form="replay-form" className="btn btn-primary" disabled={replay.isPending}>Start replay</button>
        </>
      }
    >
      <form id="replay-form" className="form" onSubmit={(e) => { e.preventDefault(); replay.mutate(); }}>
        <p className="muted small">
          Recounts the volume of “{scan.name}” for a past window from the warehouse, replacing what was collected. The window is
          widened to whole {scan.interval ?? ""} buckets and stops before the current one.
        </p>
        <Field label="From" error={errors.time_from}>
          <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
        </Field>
        <Field label="To" error={errors.time_to}>
          <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
        </Field>
        {!Object.keys(errors).length && <FormError error={replay.error} />}
      </form>
    </Dialog>
  );
}
