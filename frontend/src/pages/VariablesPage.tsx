import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api, ApiError, errorMessage, unwrap, type Schemas, type Variable } from "../api/client";
import { useCanEdit } from "../auth/session";
import { Badge } from "../components/Badge";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { EmptyState } from "../components/EmptyState";
import { Field, FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { Table } from "../components/Table";
import { useToast } from "../components/Toast";

const VARIABLE_TYPES: Schemas["VariableType"][] = ["string", "number", "boolean", "date", "datetime", "json", "string_array", "number_array"];

export function VariablesPage() {
  const { slug = "" } = useParams();
  const canEdit = useCanEdit();
  const client = useQueryClient();
  const notify = useToast();
  const [editing, setEditing] = useState<Variable | "new" | null>(null);
  const [deleting, setDeleting] = useState<Variable | null>(null);
  const [contextsFor, setContextsFor] = useState<Variable | null>(null);
  const variables = useQuery({
    queryKey: ["variables", slug],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/variables", { params: { path: { slug } } })),
  });
  const remove = useMutation({
    mutationFn: (v: Variable) =>
      unwrap(api.DELETE("/api/v1/projects/{slug}/variables/{variable_id}", { params: { path: { slug, variable_id: v.id } } })),
    onSuccess: () => {
      notify("Variable deleted");
      setDeleting(null);
      client.invalidateQueries({ queryKey: ["variables", slug] });
    },
  });
  const newButton = canEdit && (
    <button type="button" className="btn btn-primary" onClick={() => setEditing("new")}>New variable</button>
  );
  return (
    <div className="page">
      <PageHeader title="Variables" subtitle={<>Field values may reference a variable as <code>${"{name}"}</code>; scans learn its real values.</>} actions={newButton} />
      <FormError error={variables.error} />
      {variables.data?.length === 0 && (
        <EmptyState title="No variables yet" action={newButton}>
          Create a variable such as <code>screen_name</code> and use <code>${"{screen_name}"}</code> in event field values.
        </EmptyState>
      )}
      {variables.data && variables.data.length > 0 && (
        <Table
          rows={variables.data}
          rowKey={(v) => v.id}
          columns={[
            { key: "name", header: "Variable", render: (v) => (<><code className="variable">${"{"}{v.name}{"}"}</code>{v.description && <div className="muted small">{v.description}</div>}</>) },
            { key: "type", header: "Type", render: (v) => <Badge tone="outline">{v.variable_type}</Badge> },
            { key: "used", header: "Used by", render: (v) => (<button type="button" className="btn btn-ghost btn-xs" onClick={() => setContextsFor(v)}>{v.event_count ?? 0} events · {v.context_count ?? 0} contexts</button>) },
            { key: "samples", header: "Sample values", render: (v) => (v.sample_values?.length ? <span className="small">{v.sample_values.slice(0, 6).join(", ")}</span> : <span className="muted small">none yet</span>) },
            ...(canEdit
              ? [{
                  key: "actions",
                  header: <span className="sr-only">Actions</span>,
                  className: "right nowrap",
                  render: (v: Variable) => (
                    <>
                      <button type="button" className="btn btn-ghost btn-xs" onClick={() => setEditing(v)}>Edit</button>
                      <button type="button" className="btn btn-ghost btn-xs danger-text" onClick={() => setDeleting(v)}>Delete</button>
                    </>
                  ),
                }]
              : []),
          ]}
        />
      )}
      {editing && <VariableDialog slug={slug} variable={editing === "new" ? undefined : editing} onClose={() => setEditing(null)} />}
      {contextsFor && <ContextsDialog slug={slug} variable={contextsFor} onClose={() => setContextsFor(null)} />}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete variable?"
        message={<p>${"{"}{deleting?.name}{"}"} will be deleted. Field values that reference it keep their text.</p>}
        confirmLabel="Delete"
        danger
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onConfirm={() => deleting && remove.mutate(deleting)}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

function VariableDialog({ slug, variable, onClose }: { slug: string; variable?: Variable; onClose: () => void }) {
  const client = useQueryClient();
  const notify = useToast();
  const [name, setName] = useState(variable?.name ?? "");
  const [type, setType] = useState<Schemas["VariableType"]>(variable?.variable_type ?? "string");
  const [description, setDescription] = useState(variable?.description ?? "");
  const save = useMutation({
    mutationFn: () => {
      const body = { name, variable_type: type, description };
      return variable
        ? unwrap(api.PATCH("/api/v1/projects/{slug}/variables/{variable_id}", { params: { path: { slug, variable_id: variable.id } }, body }))
        : unwrap(api.POST("/api/v1/projects/{slug}/variables", { params: { path: { slug } }, body }));
    },
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["variables", slug] });
      notify(variable ? "Variable saved" : "Variable created");
      onClose();
    },
  });
  const errors = save.error instanceof ApiError ? save.error.fields : {};
  return (
    <Dialog
      open
      title={variable ? "Edit variable" : "New variable"}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" form="variable-form" className="btn btn-primary" disabled={save.isPending}>Save</button>
        </>
      }
    >
      <form id="variable-form" className="form" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Field label="Name" error={errors.name}>
          <input required autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Type" error={errors.variable_type}>
          <select value={type} onChange={(e) => setType(e.target.value as Schemas["VariableType"])}>
            {VARIABLE_TYPES.map((t) => <option key={t}>{t}</option>)}
          </select>
        </Field>
        <Field label="Description" error={errors.description}>
          <textarea rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        {!Object.keys(errors).length && <FormError error={save.error} />}
      </form>
    </Dialog>
  );
}

function ContextsDialog({ slug, variable, onClose }: { slug: string; variable: Variable; onClose: () => void }) {
  const contexts = useQuery({
    queryKey: ["variable-values", slug, variable.id],
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{slug}/variables/{variable_id}/values", { params: { path: { slug, variable_id: variable.id } } })),
  });
  return (
    <Dialog open wide title={`Where \${${variable.name}} is used`} onClose={onClose}>
      <FormError error={contexts.error} />
      {contexts.data?.length === 0 && <p className="muted">No event field references this variable yet.</p>}
      {contexts.data && contexts.data.length > 0 && (
        <Table
          rows={contexts.data}
          rowKey={(c) => c.id}
          columns={[
            { key: "event", header: "Event", render: (c) => <Link to={`/p/${slug}/events/${c.event_id}`}>{c.event_name}</Link> },
            { key: "field", header: "Field", render: (c) => <code>{c.field_name}</code> },
            { key: "kind", header: "Cardinality", render: (c) => <Badge tone={c.value_kind === "high" ? "warning" : "neutral"}>{c.value_kind}</Badge> },
            { key: "values", header: "Observed values", render: (c) => <span className="small">{c.values?.slice(0, 8).join(", ") || "—"} {c.observed_count ? `(${c.observed_count})` : ""}</span> },
          ]}
        />
      )}
    </Dialog>
  );
}
