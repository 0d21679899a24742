import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ApiError, errorMessage, unwrap, type Schemas } from "../api/client";
import { useSession } from "../auth/session";
import { Badge } from "../components/Badge";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { EmptyState } from "../components/EmptyState";
import { Field, FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { Table } from "../components/Table";
import { useToast } from "../components/Toast";
import { formatDateTime, relativeTime } from "../lib/format";
import { HEALTH_TONES, sourceHealth } from "../lib/observe";
import { DataSourceDetailsDialog } from "./DataSourceDetails";

type Source = Schemas["DataSourceResponse"];
type DbType = Schemas["DBType"];

const TYPES: { value: DbType; label: string; port: number; hostHint: string; databaseHint: string }[] = [
  { value: "postgres", label: "PostgreSQL", port: 5432, hostHint: "db.internal", databaseHint: "Database name" },
  { value: "clickhouse", label: "ClickHouse", port: 8123, hostHint: "clickhouse.internal", databaseHint: "Database name" },
  { value: "bigquery", label: "BigQuery", port: 443, hostHint: "Not used for BigQuery (any value)", databaseHint: "GCP project id" },
  { value: "duckdb", label: "DuckDB", port: 8123, hostHint: "Not used for DuckDB (any value)", databaseHint: "File path inside <data dir>/warehouses/" },
];

export function DataSourcesPage() {
  const { user } = useSession();
  const isOwner = user?.role === "owner";
  const client = useQueryClient();
  const notify = useToast();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Source | null>(null);
  const [editing, setEditing] = useState<Source | null>(null);
  const [opened, setOpened] = useState<Source | null>(null);
  const sources = useQuery({ queryKey: ["data-sources"], queryFn: () => unwrap(api.GET("/api/v1/data-sources")) });
  const test = useMutation({
    mutationFn: (s: Source) => unwrap(api.POST("/api/v1/data-sources/{ds_id}/test", { params: { path: { ds_id: s.id } } })),
    onSuccess: (r) => {
      notify(r.success ? `Connected: ${r.message}` : `Connection failed: ${r.message}`, r.success ? "success" : "error");
      client.invalidateQueries({ queryKey: ["data-sources"] });
    },
    onError: (e) => notify(errorMessage(e), "error"),
  });
  const remove = useMutation({
    mutationFn: (s: Source) => unwrap(api.DELETE("/api/v1/data-sources/{ds_id}", { params: { path: { ds_id: s.id } } })),
    onSuccess: () => {
      notify("Data source deleted");
      setDeleting(null);
      client.invalidateQueries({ queryKey: ["data-sources"] });
    },
  });
  const newButton = isOwner && (
    <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>New data source</button>
  );
  return (
    <div className="page">
      <PageHeader title="Data sources" subtitle="Warehouses that scans read events from. Credentials are stored encrypted and never shown again." actions={newButton} />
      <FormError error={sources.error} />
      {sources.data?.length === 0 && (
        <EmptyState title="No data sources" action={newButton}>
          {isOwner ? "Connect the warehouse where your product's events land." : "An owner connects warehouses."}
        </EmptyState>
      )}
      {sources.data && sources.data.length > 0 && (
        <Table
          rows={sources.data}
          rowKey={(s) => s.id}
          columns={[
            {
              key: "name",
              header: "Name",
              render: (s) => (
                <button type="button" className="link-button" onClick={() => setOpened(s)}>
                  <strong>{s.name}</strong>
                </button>
              ),
            },
            { key: "type", header: "Type", render: (s) => <Badge tone="outline">{TYPES.find((t) => t.value === s.db_type)?.label ?? s.db_type}</Badge> },
            { key: "where", header: "Location", render: (s) => <code className="small">{s.host}{s.port ? `:${s.port}` : ""}/{s.database_name}</code> },
            {
              key: "test",
              header: "Health",
              render: (s) => {
                const health = sourceHealth(s);
                const when = s.last_test_at ? `last tested ${relativeTime(s.last_test_at)} (${formatDateTime(s.last_test_at)})` : "never tested";
                return (
                  <span title={[when, s.last_test_message].filter(Boolean).join(": ")}>
                    <Badge tone={HEALTH_TONES[health]}>{health}</Badge>{" "}
                    <span className="muted small">{s.last_test_at ? relativeTime(s.last_test_at) : "test the connection"}</span>
                  </span>
                );
              },
            },
            {
              key: "secrets",
              header: "Credentials",
              render: (s) => (
                <span className="small">
                  {s.password_set ? <Badge tone="outline">password stored</Badge> : <span className="muted">no password</span>}
                  {s.secret_params_set?.map((k) => <Badge key={k} tone="outline">{k} stored</Badge>)}
                </span>
              ),
            },
            ...(isOwner
              ? [{
                  key: "actions",
                  header: <span className="sr-only">Actions</span>,
                  className: "right nowrap",
                  render: (s: Source) => (
                    <>
                      <button type="button" className="btn btn-ghost btn-xs" disabled={test.isPending} onClick={() => test.mutate(s)}>
                        {test.isPending && test.variables?.id === s.id ? "Testing…" : "Test"}
                      </button>
                      <button type="button" className="btn btn-ghost btn-xs" onClick={() => setEditing(s)}>Edit</button>
                      <button type="button" className="btn btn-ghost btn-xs danger-text" onClick={() => setDeleting(s)}>Delete</button>
                    </>
                  ),
                }]
              : []),
          ]}
        />
      )}
      {creating && <DataSourceDialog onClose={() => setCreating(false)} />}
      {editing && <DataSourceDialog source={editing} onClose={() => setEditing(null)} />}
      {opened && <DataSourceDetailsDialog source={opened} onClose={() => setOpened(null)} />}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete data source?"
        message={<p>“{deleting?.name}” will be deleted. Scans that read from it must be removed first.</p>}
        confirmLabel="Delete"
        danger
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onConfirm={() => deleting && remove.mutate(deleting)}
        onClose={() => {
          setDeleting(null);
          remove.reset();
        }}
      />
    </div>
  );
}

/** Create, or edit (PATCH) with an empty password meaning "keep the stored one". */
export function DataSourceDialog({ source, onClose }: { source?: Source; onClose: () => void }) {
  const client = useQueryClient();
  const notify = useToast();
  const [form, setForm] = useState({
    name: source?.name ?? "",
    db_type: source?.db_type ?? ("postgres" as DbType),
    host: source?.host ?? "",
    port: String(source?.port ?? 5432),
    database_name: source?.database_name ?? "",
    username: source?.username ?? "",
    password: "",
    timeout_seconds: source?.timeout_seconds ? String(source.timeout_seconds) : "",
  });
  const set = (key: keyof typeof form, value: string) => setForm((f) => ({ ...f, [key]: value }));
  const type = TYPES.find((t) => t.value === form.db_type)!;
  const save = useMutation({
    mutationFn: () => {
      const common = {
        name: form.name,
        db_type: form.db_type,
        host: form.host,
        port: Number(form.port) || 0,
        database_name: form.database_name,
        username: form.username,
        timeout_seconds: form.timeout_seconds.trim() ? Number(form.timeout_seconds) : null,
      };
      if (!source) return unwrap(api.POST("/api/v1/data-sources", { body: { ...common, password: form.password } }));
      return unwrap(
        api.PATCH("/api/v1/data-sources/{ds_id}", {
          params: { path: { ds_id: source.id } },
          body: { ...common, password: form.password === "" ? null : form.password },
        }),
      );
    },
    onSuccess: (s) => {
      notify(`Data source “${s.name}” saved`);
      client.invalidateQueries({ queryKey: ["data-sources"] });
      onClose();
    },
  });
  const errors = save.error instanceof ApiError ? save.error.fields : {};
  const passwordHint = source?.password_set
    ? "A password is stored. Leave empty to keep it; type a new one to replace it."
    : "Stored encrypted; never shown again.";
  return (
    <Dialog
      open
      wide
      title={source ? `Edit data source ${source.name}` : "New data source"}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" form="ds-form" className="btn btn-primary" disabled={save.isPending}>Save data source</button>
        </>
      }
    >
      <form id="ds-form" className="form form-grid" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Field label="Name" error={errors.name}>
          <input required autoFocus value={form.name} onChange={(e) => set("name", e.target.value)} />
        </Field>
        <Field label="Type" error={errors.db_type}>
          <select
            value={form.db_type}
            onChange={(e) => {
              const next = TYPES.find((t) => t.value === e.target.value)!;
              setForm((f) => ({ ...f, db_type: next.value, port: String(next.port) }));
            }}
          >
            {TYPES.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
          </select>
        </Field>
        <Field label="Host" hint={type.hostHint} error={errors.host}>
          <input required value={form.host} onChange={(e) => set("host", e.target.value)} />
        </Field>
        <Field label="Port" error={errors.port}>
          <input inputMode="numeric" value={form.port} onChange={(e) => set("port", e.target.value)} />
        </Field>
        <Field label="Database" hint={type.databaseHint} error={errors.database_name}>
          <input required value={form.database_name} onChange={(e) => set("database_name", e.target.value)} />
        </Field>
        <Field label="Username" error={errors.username}>
          <input autoComplete="off" value={form.username} onChange={(e) => set("username", e.target.value)} />
        </Field>
        <Field label="Password" hint={passwordHint} error={errors.password}>
          <input
            type="password"
            autoComplete="new-password"
            placeholder={source?.password_set ? "•••••• stored" : ""}
            value={form.password}
            onChange={(e) => set("password", e.target.value)}
          />
        </Field>
        <Field label="Query timeout (seconds)" hint="Empty: the server's default" error={errors.timeout_seconds}>
          <input type="number" min={1} value={form.timeout_seconds} onChange={(e) => set("timeout_seconds", e.target.value)} />
        </Field>
        {source && (source.secret_params_set?.length ?? 0) > 0 && (
          <p className="span-2 muted small">
            Secret options stored: {source.secret_params_set!.join(", ")} (kept unless replaced through the API).
          </p>
        )}
        <div className="span-2">{!Object.keys(errors).length && <FormError error={save.error} />}</div>
      </form>
    </Dialog>
  );
}
