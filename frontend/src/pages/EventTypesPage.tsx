import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useParams, useSearchParams } from "react-router";
import { api, ApiError, errorMessage, unwrap, type EventType, type FieldDef, type Schemas } from "../api/client";
import { useCanEdit } from "../auth/session";
import { Badge } from "../components/Badge";
import { ConfirmDialog, Dialog } from "../components/Dialog";
import { EmptyState } from "../components/EmptyState";
import { Field, FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { useToast } from "../components/Toast";
import { moveItem } from "../lib/format";
import { useEventTypes, useUsers } from "../lib/queries";
import { VolumeCard } from "./MetricsCards";

const FIELD_TYPES: Schemas["FieldType"][] = ["string", "number", "boolean", "json", "enum", "url"];
const SENSITIVITIES: Schemas["Sensitivity"][] = ["none", "pii", "phi", "financial", "secret"];

export function EventTypesPage() {
  const { slug = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const canEdit = useCanEdit();
  const types = useEventTypes(slug);
  const [typeDialog, setTypeDialog] = useState<EventType | "new" | null>(null);
  const selected = types.data?.find((t) => t.id === params.get("type")) ?? types.data?.[0];
  const newButton = canEdit && (
    <button type="button" className="btn btn-primary" onClick={() => setTypeDialog("new")}>
      New event type
    </button>
  );
  return (
    <div className="page page-wide">
      <PageHeader title="Event types" subtitle="An event type declares the fields its events send." actions={newButton} />
      <FormError error={types.error} />
      {types.data?.length === 0 && (
        <EmptyState title="No event types yet" action={newButton}>
          Create an event type such as “screen_view” or “click” and declare its fields.
        </EmptyState>
      )}
      {selected && (
        <div className="split">
          <nav className="list-nav" aria-label="Event types">
            {types.data?.map((t) => (
              <button
                key={t.id}
                type="button"
                className={t.id === selected.id ? "list-nav-item active" : "list-nav-item"}
                aria-current={t.id === selected.id}
                onClick={() => setParams({ type: t.id }, { replace: true })}
              >
                <span className="type-dot" style={{ background: t.color || "var(--muted)" }} aria-hidden />
                <span className="clamp-1">{t.display_name}</span>
                <span className="muted small">{t.field_definitions?.length ?? 0}</span>
              </button>
            ))}
          </nav>
          <EventTypePanel slug={slug} type={selected} canEdit={canEdit} onEdit={() => setTypeDialog(selected)} />
        </div>
      )}
      {typeDialog && (
        <EventTypeDialog
          slug={slug}
          type={typeDialog === "new" ? undefined : typeDialog}
          onClose={() => setTypeDialog(null)}
          onSaved={(t) => setParams({ type: t.id }, { replace: true })}
        />
      )}
    </div>
  );
}

function EventTypePanel({ slug, type, canEdit, onEdit }: { slug: string; type: EventType; canEdit: boolean; onEdit: () => void }) {
  const client = useQueryClient();
  const notify = useToast();
  const [fieldDialog, setFieldDialog] = useState<FieldDef | "new" | null>(null);
  const [bulkOpen, setBulkOpen] = useState(false);
  const [deleting, setDeleting] = useState<FieldDef | "type" | null>(null);
  const fields = type.field_definitions ?? [];
  const typePath = { path: { slug, event_type_id: type.id } };
  const refresh = () => client.invalidateQueries({ queryKey: ["event-types", slug] });
  const reorder = useMutation({
    mutationFn: (ids: string[]) =>
      unwrap(api.PATCH("/api/v1/projects/{slug}/event-types/{event_type_id}/fields/reorder", { params: typePath, body: { field_ids: ids } })),
    onSuccess: refresh,
    onError: (e) => notify(errorMessage(e), "error"),
  });
  const remove = useMutation({
    mutationFn: (target: FieldDef | "type") =>
      target === "type"
        ? unwrap(api.DELETE("/api/v1/projects/{slug}/event-types/{event_type_id}", { params: typePath }))
        : unwrap(
            api.DELETE("/api/v1/projects/{slug}/event-types/{event_type_id}/fields/{field_id}", {
              params: { path: { slug, event_type_id: type.id, field_id: target.id } },
            }),
          ),
    onSuccess: (_d, target) => {
      notify(target === "type" ? "Event type deleted" : "Field deleted");
      setDeleting(null);
      refresh();
      client.invalidateQueries({ queryKey: ["projects"] });
    },
  });
  return (
    <div className="stack">
      <section className="card">
        <div className="section-head">
          <div>
            <h2>
              <span className="type-dot" style={{ background: type.color || "var(--muted)" }} aria-hidden />
              {type.display_name} <code className="muted small">{type.name}</code>
            </h2>
            {type.description && <p className="muted">{type.description}</p>}
          </div>
          {canEdit && (
            <div className="page-actions">
              <button type="button" className="btn" onClick={onEdit}>
                Edit type
              </button>
              <button type="button" className="btn btn-danger-outline" onClick={() => setDeleting("type")}>
                Delete type
              </button>
            </div>
          )}
        </div>
        <div className="section-head">
          <h3>Fields</h3>
          {canEdit && (
            <div className="page-actions">
              <button type="button" className="btn" onClick={() => setBulkOpen(true)}>
                Add several…
              </button>
              <button type="button" className="btn btn-primary" onClick={() => setFieldDialog("new")}>
                Add field
              </button>
            </div>
          )}
        </div>
        {fields.length === 0 ? (
          <p className="muted">No fields yet. Add the properties every event of this type sends.</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  {canEdit && <th className="col-order">Order</th>}
                  <th>Field</th>
                  <th>Type</th>
                  <th>Rules</th>
                  <th>Data contract</th>
                  {canEdit && <th aria-label="Actions" />}
                </tr>
              </thead>
              <tbody>
                {fields.map((f, i) => (
                  <tr key={f.id}>
                    {canEdit && (
                      <td className="col-order">
                        <button type="button" className="btn btn-ghost btn-xs" aria-label={`Move ${f.name} up`} disabled={i === 0} onClick={() => reorder.mutate(moveItem(fields.map((x) => x.id), i, i - 1))}>
                          ↑
                        </button>
                        <button type="button" className="btn btn-ghost btn-xs" aria-label={`Move ${f.name} down`} disabled={i === fields.length - 1} onClick={() => reorder.mutate(moveItem(fields.map((x) => x.id), i, i + 1))}>
                          ↓
                        </button>
                      </td>
                    )}
                    <td>
                      <div>{f.display_name}</div>
                      <code className="muted small">{f.name}</code>
                    </td>
                    <td>
                      <Badge tone="outline">{f.field_type}</Badge>
                      {f.enum_options && f.enum_options.length > 0 && (
                        <div className="muted small clamp-1" title={f.enum_options.join(", ")}>
                          {f.enum_options.join(" · ")}
                        </div>
                      )}
                    </td>
                    <td>
                      {f.is_required ? <Badge tone="warning">required</Badge> : <span className="muted small">optional</span>}{" "}
                      {f.sensitivity !== "none" && <Badge tone="danger">{f.sensitivity}</Badge>}
                    </td>
                    <td className="small">{contractSummary(f) || <span className="muted">—</span>}</td>
                    {canEdit && (
                      <td className="nowrap right">
                        <button type="button" className="btn btn-ghost btn-xs" onClick={() => setFieldDialog(f)}>
                          Edit
                        </button>
                        <button type="button" className="btn btn-ghost btn-xs danger-text" onClick={() => setDeleting(f)}>
                          Delete
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <VolumeCard slug={slug} eventTypeId={type.id} />
      <OwnersCard slug={slug} type={type} canEdit={canEdit} />
      {fieldDialog && (
        <FieldDialog slug={slug} type={type} field={fieldDialog === "new" ? undefined : fieldDialog} onClose={() => setFieldDialog(null)} />
      )}
      {bulkOpen && <BulkFieldsDialog slug={slug} type={type} onClose={() => setBulkOpen(false)} />}
      <ConfirmDialog
        open={deleting !== null}
        title={deleting === "type" ? "Delete event type?" : "Delete field?"}
        message={
          <p>
            {deleting === "type"
              ? `“${type.display_name}” and its fields will be deleted. Types that still have events cannot be deleted.`
              : `The field “${deleting?.name}” and its values on every event will be deleted.`}
          </p>
        }
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

function contractSummary(f: FieldDef): string {
  const parts: string[] = [];
  if (f.contract_required_max_null_rate !== null) parts.push(`nulls ≤ ${f.contract_required_max_null_rate * 100}%`);
  if (f.contract_regex) parts.push(`matches /${f.contract_regex}/`);
  if (f.contract_min_value !== null) parts.push(`≥ ${f.contract_min_value}`);
  if (f.contract_max_value !== null) parts.push(`≤ ${f.contract_max_value}`);
  if (parts.length && f.contract_max_bad_rate) parts.push(`bad ≤ ${f.contract_max_bad_rate * 100}%`);
  return parts.join(", ");
}

function EventTypeDialog({ slug, type, onClose, onSaved }: { slug: string; type?: EventType; onClose: () => void; onSaved: (t: EventType) => void }) {
  const client = useQueryClient();
  const notify = useToast();
  const [name, setName] = useState(type?.name ?? "");
  const [displayName, setDisplayName] = useState(type?.display_name ?? "");
  const [description, setDescription] = useState(type?.description ?? "");
  const [color, setColor] = useState(type?.color || "#6366f1");
  const save = useMutation({
    mutationFn: () => {
      const body = { name, display_name: displayName || name, description, color };
      return type
        ? unwrap(api.PATCH("/api/v1/projects/{slug}/event-types/{event_type_id}", { params: { path: { slug, event_type_id: type.id } }, body }))
        : unwrap(api.POST("/api/v1/projects/{slug}/event-types", { params: { path: { slug } }, body }));
    },
    onSuccess: (saved) => {
      client.invalidateQueries({ queryKey: ["event-types", slug] });
      client.invalidateQueries({ queryKey: ["projects"] });
      notify(type ? "Event type saved" : `Event type “${saved.display_name}” created`);
      onSaved(saved);
      onClose();
    },
  });
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  return (
    <Dialog
      open
      title={type ? "Edit event type" : "New event type"}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="type-form" className="btn btn-primary" disabled={save.isPending}>
            {type ? "Save" : "Create event type"}
          </button>
        </>
      }
    >
      <form id="type-form" className="form" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Field label="Name" hint="As sent in the data, e.g. screen_view" error={fields.name}>
          <input required autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Display name" error={fields.display_name}>
          <input value={displayName} placeholder={name} onChange={(e) => setDisplayName(e.target.value)} />
        </Field>
        <Field label="Description" error={fields.description}>
          <textarea rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <Field label="Color" error={fields.color}>
          <input type="color" value={color} onChange={(e) => setColor(e.target.value)} />
        </Field>
        {!Object.keys(fields).length && <FormError error={save.error} />}
      </form>
    </Dialog>
  );
}

type FieldForm = {
  name: string;
  display_name: string;
  field_type: Schemas["FieldType"];
  is_required: boolean;
  enum_options: string;
  description: string;
  sensitivity: Schemas["Sensitivity"];
  null_rate: string;
  regex: string;
  min: string;
  max: string;
  bad_rate: string;
};

function numberOrNull(text: string): number | null {
  return text.trim() === "" ? null : Number(text);
}

function FieldDialog({ slug, type, field, onClose }: { slug: string; type: EventType; field?: FieldDef; onClose: () => void }) {
  const client = useQueryClient();
  const notify = useToast();
  const [form, setForm] = useState<FieldForm>({
    name: field?.name ?? "",
    display_name: field?.display_name ?? "",
    field_type: field?.field_type ?? "string",
    is_required: field?.is_required ?? false,
    enum_options: field?.enum_options?.join("\n") ?? "",
    description: field?.description ?? "",
    sensitivity: field?.sensitivity ?? "none",
    null_rate: field?.contract_required_max_null_rate?.toString() ?? "",
    regex: field?.contract_regex ?? "",
    min: field?.contract_min_value?.toString() ?? "",
    max: field?.contract_max_value?.toString() ?? "",
    bad_rate: field?.contract_max_bad_rate?.toString() ?? "0",
  });
  const set = <K extends keyof FieldForm>(key: K, value: FieldForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const save = useMutation({
    mutationFn: () => {
      const body = {
        name: form.name,
        display_name: form.display_name || form.name,
        field_type: form.field_type,
        is_required: form.is_required,
        enum_options:
          form.field_type === "enum" ? form.enum_options.split("\n").map((o) => o.trim()).filter(Boolean) : null,
        description: form.description,
        sensitivity: form.sensitivity,
        contract_required_max_null_rate: numberOrNull(form.null_rate),
        contract_regex: form.regex.trim() || null,
        contract_min_value: numberOrNull(form.min),
        contract_max_value: numberOrNull(form.max),
        contract_max_bad_rate: numberOrNull(form.bad_rate) ?? 0,
      };
      return field
        ? unwrap(
            api.PATCH("/api/v1/projects/{slug}/event-types/{event_type_id}/fields/{field_id}", {
              params: { path: { slug, event_type_id: type.id, field_id: field.id } },
              body,
            }),
          )
        : unwrap(
            api.POST("/api/v1/projects/{slug}/event-types/{event_type_id}/fields", {
              params: { path: { slug, event_type_id: type.id } },
              body,
            }),
          );
    },
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["event-types", slug] });
      notify(field ? "Field saved" : "Field added");
      onClose();
    },
  });
  const errors = save.error instanceof ApiError ? save.error.fields : {};
  return (
    <Dialog
      open
      wide
      title={field ? `Edit field ${field.name}` : `Add a field to ${type.display_name}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="field-form" className="btn btn-primary" disabled={save.isPending}>
            {field ? "Save field" : "Add field"}
          </button>
        </>
      }
    >
      <form id="field-form" className="form form-grid" onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
        <Field label="Name" hint="Column or property name, e.g. screen_name" error={errors.name}>
          <input required autoFocus value={form.name} onChange={(e) => set("name", e.target.value)} />
        </Field>
        <Field label="Display name" error={errors.display_name}>
          <input value={form.display_name} placeholder={form.name} onChange={(e) => set("display_name", e.target.value)} />
        </Field>
        <Field label="Type" error={errors.field_type}>
          <select value={form.field_type} onChange={(e) => set("field_type", e.target.value as FieldForm["field_type"])}>
            {FIELD_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </Field>
        <Field label="Sensitivity" error={errors.sensitivity}>
          <select value={form.sensitivity} onChange={(e) => set("sensitivity", e.target.value as FieldForm["sensitivity"])}>
            {SENSITIVITIES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </Field>
        <label className="checkbox span-2">
          <input type="checkbox" checked={form.is_required} onChange={(e) => set("is_required", e.target.checked)} /> Required
        </label>
        {form.field_type === "enum" && (
          <div className="span-2">
            <Field label="Enum options" hint="One per line" error={errors.enum_options}>
              <textarea rows={4} value={form.enum_options} onChange={(e) => set("enum_options", e.target.value)} />
            </Field>
          </div>
        )}
        <div className="span-2">
          <Field label="Description" error={errors.description}>
            <textarea rows={2} value={form.description} onChange={(e) => set("description", e.target.value)} />
          </Field>
        </div>
        <fieldset className="span-2 fieldset">
          <legend>Data contract</legend>
          <div className="form-grid">
            <Field label="Max null rate (0–1)" error={errors.contract_required_max_null_rate}>
              <input inputMode="decimal" value={form.null_rate} onChange={(e) => set("null_rate", e.target.value)} />
            </Field>
            <Field label="Regex" error={errors.contract_regex}>
              <input value={form.regex} onChange={(e) => set("regex", e.target.value)} />
            </Field>
            <Field label="Min value" error={errors.contract_min_value}>
              <input inputMode="decimal" value={form.min} onChange={(e) => set("min", e.target.value)} />
            </Field>
            <Field label="Max value" error={errors.contract_max_value}>
              <input inputMode="decimal" value={form.max} onChange={(e) => set("max", e.target.value)} />
            </Field>
            <Field label="Max bad-value rate (0–1)" error={errors.contract_max_bad_rate}>
              <input inputMode="decimal" value={form.bad_rate} onChange={(e) => set("bad_rate", e.target.value)} />
            </Field>
          </div>
        </fieldset>
        <div className="span-2">{!Object.keys(errors).length && <FormError error={save.error} />}</div>
      </form>
    </Dialog>
  );
}

/** "name:type" per line (type defaults to string; a trailing * marks it required). */
export function parseBulkFields(text: string): Schemas["FieldDefinitionCreate"][] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const required = line.endsWith("*");
      const [name, kind = "string"] = line.replace(/\*$/, "").split(":").map((p) => p.trim());
      return {
        name,
        display_name: name,
        field_type: (FIELD_TYPES.includes(kind as Schemas["FieldType"]) ? kind : "string") as Schemas["FieldType"],
        is_required: required,
      };
    });
}

function BulkFieldsDialog({ slug, type, onClose }: { slug: string; type: EventType; onClose: () => void }) {
  const client = useQueryClient();
  const notify = useToast();
  const [text, setText] = useState("");
  const parsed = parseBulkFields(text);
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/projects/{slug}/event-types/{event_type_id}/fields/bulk", {
          params: { path: { slug, event_type_id: type.id } },
          body: { fields: parsed },
        }),
      ),
    onSuccess: (created) => {
      client.invalidateQueries({ queryKey: ["event-types", slug] });
      notify(`Added ${created.length} fields`);
      onClose();
    },
  });
  return (
    <Dialog
      open
      title={`Add several fields to ${type.display_name}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="btn btn-primary" disabled={!parsed.length || save.isPending} onClick={() => save.mutate()}>
            Add {parsed.length} field{parsed.length === 1 ? "" : "s"}
          </button>
        </>
      }
    >
      <Field label="Fields" hint="One per line as name:type, e.g. screen_name:string* (a trailing * means required)">
        <textarea rows={8} autoFocus value={text} onChange={(e) => setText(e.target.value)} className="mono" />
      </Field>
      <FormError error={save.error} />
    </Dialog>
  );
}

function OwnersCard({ slug, type, canEdit }: { slug: string; type: EventType; canEdit: boolean }) {
  const client = useQueryClient();
  const users = useUsers();
  const [userId, setUserId] = useState("");
  const path = { path: { slug, event_type_id: type.id } };
  const key = ["owners", slug, type.id];
  const owners = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/event-types/{event_type_id}/owners", { params: path })),
  });
  const add = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/projects/{slug}/event-types/{event_type_id}/owners", { params: path, body: { user_id: userId } })),
    onSuccess: () => {
      setUserId("");
      client.invalidateQueries({ queryKey: key });
    },
  });
  const remove = useMutation({
    mutationFn: (ownerId: string) =>
      unwrap(
        api.DELETE("/api/v1/projects/{slug}/event-types/{event_type_id}/owners/{owner_id}", {
          params: { path: { slug, event_type_id: type.id, owner_id: ownerId } },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: key }),
  });
  const taken = new Set(owners.data?.map((o) => o.user_id));
  return (
    <section className="card">
      <h3>Owners</h3>
      <p className="muted small">Owners are answerable for this event type’s quality and get its alerts.</p>
      <FormError error={owners.error ?? remove.error} />
      {owners.data?.length === 0 && <p className="muted">No owners yet.</p>}
      <ul className="owner-list">
        {owners.data?.map((o) => (
          <li key={o.id}>
            <span className="avatar" aria-hidden>
              {(o.user_name || o.user_email).charAt(0).toUpperCase()}
            </span>
            <span>
              {o.user_name || o.user_email} <span className="muted small">{o.user_email}</span>
            </span>
            {canEdit && (
              <button type="button" className="btn btn-ghost btn-xs danger-text" onClick={() => remove.mutate(o.id)} aria-label={`Remove ${o.user_email}`}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {canEdit && (
        <form className="inline-form" onSubmit={(e) => { e.preventDefault(); add.mutate(); }}>
          <select aria-label="User to add as owner" value={userId} onChange={(e) => setUserId(e.target.value)} required>
            <option value="">Choose a user…</option>
            {users.data
              ?.filter((u) => !taken.has(u.id))
              .map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name || u.email}
                </option>
              ))}
          </select>
          <button className="btn" disabled={!userId || add.isPending}>
            Add owner
          </button>
          <FormError error={add.error} />
        </form>
      )}
    </section>
  );
}
