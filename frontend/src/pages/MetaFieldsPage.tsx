import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useParams } from "react-router";
import { api, ApiError, errorMessage, unwrap, type MetaField, type Schemas } from "../api/client";
import { useCanEdit } from "../auth/session";
import { Badge } from "../components/Badge";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { EmptyState } from "../components/EmptyState";
import { Field, FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { Table } from "../components/Table";
import { useToast } from "../components/Toast";
import { useMetaFields } from "../lib/queries";

const META_TYPES: Schemas["MetaFieldType"][] = ["string", "url", "boolean", "enum", "date"];
const SENSITIVITIES: Schemas["Sensitivity"][] = ["none", "pii", "phi", "financial", "secret"];

export function MetaFieldsPage() {
  const { slug = "" } = useParams();
  const canEdit = useCanEdit();
  const client = useQueryClient();
  const notify = useToast();
  const metas = useMetaFields(slug);
  const [editing, setEditing] = useState<MetaField | "new" | null>(null);
  const [deleting, setDeleting] = useState<MetaField | null>(null);
  const remove = useMutation({
    mutationFn: (m: MetaField) =>
      unwrap(api.DELETE("/api/v1/projects/{slug}/meta-fields/{meta_field_id}", { params: { path: { slug, meta_field_id: m.id } } })),
    onSuccess: () => {
      notify("Meta field deleted");
      setDeleting(null);
      client.invalidateQueries({ queryKey: ["meta-fields", slug] });
    },
  });
  const newButton = canEdit && (
    <button type="button" className="btn btn-primary" onClick={() => setEditing("new")}>
      New meta field
    </button>
  );
  return (
    <div className="page">
      <PageHeader title="Meta fields" subtitle="Extra attributes every event can carry: Jira ticket, team, platform…" actions={newButton} />
      <FormError error={metas.error} />
      {metas.data?.length === 0 && (
        <EmptyState title="No meta fields" action={newButton}>
          Add one, e.g. a “Jira ticket” with link template https://jira.example.com/browse/{"{value}"}.
        </EmptyState>
      )}
      {metas.data && metas.data.length > 0 && (
        <Table
          rows={metas.data}
          rowKey={(m) => m.id}
          columns={[
            { key: "name", header: "Meta field", render: (m) => (<><div>{m.display_name}</div><code className="muted small">{m.name}</code></>) },
            { key: "type", header: "Type", render: (m) => <Badge tone="outline">{m.field_type}</Badge> },
            { key: "req", header: "Required", render: (m) => (m.is_required ? <Badge tone="warning">required</Badge> : <span className="muted small">optional</span>) },
            { key: "default", header: "Default", render: (m) => m.default_value || <span className="muted">—</span> },
            { key: "link", header: "Link template", render: (m) => (m.link_template ? <code className="small clamp-1">{m.link_template}</code> : <span className="muted">—</span>) },
            ...(canEdit
              ? [
                  {
                    key: "actions",
                    header: <span className="sr-only">Actions</span>,
                    className: "right nowrap",
                    render: (m: MetaField) => (
                      <>
                        <button type="button" className="btn btn-ghost btn-xs" onClick={() => setEditing(m)}>Edit</button>
                        <button type="button" className="btn btn-ghost btn-xs danger-text" onClick={() => setDeleting(m)}>Delete</button>
                      </>
                    ),
                  },
                ]
              : []),
          ]}
        />
      )}
      {editing && <MetaFieldDialog slug={slug} meta={editing === "new" ? undefined : editing} onClose={() => setEditing(null)} />}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete meta field?"
        message={<p>“{deleting?.display_name}” and its value on every event will be deleted.</p>}
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

function MetaFieldDialog({ slug, meta, onClose }: { slug: string; meta?: MetaField; onClose: () => void }) {
  const client = useQueryClient();
  const notify = useToast();
  const [name, setName] = useState(meta?.name ?? "");
  const [displayName, setDisplayName] = useState(meta?.display_name ?? "");
  const [type, setType] = useState<Schemas["MetaFieldType"]>(meta?.field_type ?? "string");
  const [required, setRequired] = useState(meta?.is_required ?? false);
  const [options, setOptions] = useState(meta?.enum_options?.join("\n") ?? "");
  const [defaultValue, setDefaultValue] = useState(meta?.default_value ?? "");
  const [link, setLink] = useState(meta?.link_template ?? "");
  const [sensitivity, setSensitivity] = useState<Schemas["Sensitivity"]>(meta?.sensitivity ?? "none");
  const save = useMutation({
    mutationFn: () => {
      const body = {
        name,
        display_name: displayName || name,
        field_type: type,
        is_required: required,
        enum_options: type === "enum" ? options.split("\n").map((o) => o.trim()).filter(Boolean) : null,
        default_value: defaultValue || null,
        link_template: link.trim() || null,
        sensitivity,
      };
      return meta
        ? unwrap(api.PATCH("/api/v1/projects/{slug}/meta-fields/{meta_field_id}", { params: { path: { slug, meta_field_id: meta.id } }, body }))
        : unwrap(api.POST("/api/v1/projects/{slug}/meta-fields", { params: { path: { slug } }, body }));
    },
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["meta-fields", slug] });
      notify(meta ? "Meta field saved" : "Meta field created");
      onClose();
    },
  });
  const errors = save.error instanceof ApiError ? save.error.fields : {};
  return (
    <Dialog
      open
      title={meta ? "Edit meta field" : "New meta field"}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" form="meta-form" className="btn btn-primary" disabled={save.isPending}>Save</button>
        </>
      }
    >
      <form id="meta-form" className="form" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Field label="Name" error={errors.name}>
          <input required autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Display name" error={errors.display_name}>
          <input value={displayName} placeholder={name} onChange={(e) => setDisplayName(e.target.value)} />
        </Field>
        <Field label="Type" error={errors.field_type}>
          <select value={type} onChange={(e) => setType(e.target.value as Schemas["MetaFieldType"])}>
            {META_TYPES.map((t) => <option key={t}>{t}</option>)}
          </select>
        </Field>
        {type === "enum" && (
          <Field label="Options" hint="One per line" error={errors.enum_options}>
            <textarea rows={3} value={options} onChange={(e) => setOptions(e.target.value)} />
          </Field>
        )}
        <Field label="Default value" error={errors.default_value}>
          <input value={defaultValue} onChange={(e) => setDefaultValue(e.target.value)} />
        </Field>
        <Field label="Link template" hint="The value replaces {value}, e.g. https://jira.example.com/browse/{value}" error={errors.link_template}>
          <input value={link} onChange={(e) => setLink(e.target.value)} />
        </Field>
        <Field label="Sensitivity" error={errors.sensitivity}>
          <select value={sensitivity} onChange={(e) => setSensitivity(e.target.value as Schemas["Sensitivity"])}>
            {SENSITIVITIES.map((t) => <option key={t}>{t}</option>)}
          </select>
        </Field>
        <label className="checkbox">
          <input type="checkbox" checked={required} onChange={(e) => setRequired(e.target.checked)} /> Required on every event
        </label>
        {!Object.keys(errors).length && <FormError error={save.error} />}
      </form>
    </Dialog>
  );
}
