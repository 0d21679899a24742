import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { api, ApiError, unwrap, type EventDetail, type EventStatus, type EventType, type FieldDef } from "../api/client";
import { Dialog } from "../components/Dialog";
import { Field, FormError } from "../components/Field";
import { useToast } from "../components/Toast";
import { EVENT_STATUSES, statusLabel } from "../lib/format";
import { useMetaFields, useUsers } from "../lib/queries";

type Props = { slug: string; types: EventType[]; event?: EventDetail; onClose: () => void };

/** Create or edit an event: its identity, status, tags, owner, field values and meta values. */
export function EventFormDialog({ slug, types, event, onClose }: Props) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const notify = useToast();
  const metaFields = useMetaFields(slug);
  const users = useUsers();
  const [typeId, setTypeId] = useState(event?.event_type_id ?? types[0]?.id ?? "");
  const [name, setName] = useState(event?.name ?? "");
  const [description, setDescription] = useState(event?.description ?? "");
  const [status, setStatus] = useState<EventStatus>(event?.status ?? "draft");
  const [tags, setTags] = useState(event?.tags.map((t) => t.name).join(", ") ?? "");
  const [ownerId, setOwnerId] = useState(event?.owner_id ?? "");
  const [reviewed, setReviewed] = useState(event?.reviewed ?? false);
  const [values, setValues] = useState<Record<string, string>>(
    Object.fromEntries(event?.field_values.map((v) => [v.field_definition_id, v.value]) ?? []),
  );
  const [metas, setMetas] = useState<Record<string, string>>(
    Object.fromEntries(event?.meta_values.map((v) => [v.meta_field_definition_id, v.value]) ?? []),
  );
  const type = types.find((t) => t.id === typeId);
  const fieldDefs = type?.field_definitions ?? [];

  const save = useMutation({
    mutationFn: () => {
      const body = {
        name,
        description,
        status,
        reviewed,
        owner_id: ownerId || null,
        tags: tags
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean),
        field_values: fieldDefs
          .filter((f) => (values[f.id] ?? "") !== "")
          .map((f) => ({ field_definition_id: f.id, value: values[f.id] })),
        meta_values: (metaFields.data ?? [])
          .filter((m) => (metas[m.id] ?? "") !== "")
          .map((m) => ({ meta_field_definition_id: m.id, value: metas[m.id] })),
      };
      return event
        ? unwrap(
            api.PATCH("/api/v1/projects/{slug}/events/{event_id}", {
              params: { path: { slug, event_id: event.id } },
              body,
            }),
          )
        : unwrap(
            api.POST("/api/v1/projects/{slug}/events", {
              params: { path: { slug } },
              body: { ...body, event_type_id: typeId },
            }),
          );
    },
    onSuccess: (saved) => {
      client.invalidateQueries({ queryKey: ["events", slug] });
      client.invalidateQueries({ queryKey: ["event", slug, saved.id] });
      client.invalidateQueries({ queryKey: ["history", slug, saved.id] });
      client.invalidateQueries({ queryKey: ["tags", slug] });
      client.invalidateQueries({ queryKey: ["projects"] });
      notify(event ? "Event saved" : `Event “${saved.name}” created`);
      onClose();
      if (!event) navigate(`/p/${slug}/events/${saved.id}`);
    },
  });
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  return (
    <Dialog
      open
      wide
      title={event ? `Edit ${event.name}` : "New event"}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="event-form" className="btn btn-primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : event ? "Save event" : "Create event"}
          </button>
        </>
      }
    >
      <form
        id="event-form"
        className="form form-grid"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        {!event && (
          <Field label="Event type" error={fields.event_type_id}>
            <select value={typeId} onChange={(e) => setTypeId(e.target.value)}>
              {types.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.display_name}
                </option>
              ))}
            </select>
          </Field>
        )}
        <Field label="Name" error={fields.name}>
          <input required autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Status" error={fields.status}>
          <select value={status} onChange={(e) => setStatus(e.target.value as EventStatus)}>
            {EVENT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Owner" error={fields.owner_id}>
          <select value={ownerId} onChange={(e) => setOwnerId(e.target.value)}>
            <option value="">No owner</option>
            {users.data?.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name || u.email}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Tags" hint="Comma-separated, e.g. checkout, onboarding" error={fields.tags}>
          <input value={tags} onChange={(e) => setTags(e.target.value)} />
        </Field>
        <label className="checkbox">
          <input type="checkbox" checked={reviewed} onChange={(e) => setReviewed(e.target.checked)} /> Reviewed
        </label>
        <div className="span-2">
          <Field label="Description" error={fields.description}>
            <textarea rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
          </Field>
        </div>
        {fieldDefs.length > 0 && (
          <fieldset className="span-2 fieldset">
            <legend>Field values</legend>
            <p className="muted small">Literal values, or ${"{variable}"} references to a project variable.</p>
            <div className="form-grid">
              {fieldDefs.map((f) => (
                <FieldValueInput
                  key={f.id}
                  def={f}
                  value={values[f.id] ?? ""}
                  error={errorFor(fields, "field_values", f.id)}
                  onChange={(v) => setValues((all) => ({ ...all, [f.id]: v }))}
                />
              ))}
            </div>
          </fieldset>
        )}
        {(metaFields.data?.length ?? 0) > 0 && (
          <fieldset className="span-2 fieldset">
            <legend>Meta</legend>
            <div className="form-grid">
              {metaFields.data?.map((m) => (
                <Field key={m.id} label={m.display_name + (m.is_required ? " *" : "")}>
                  {m.field_type === "enum" && m.enum_options ? (
                    <select value={metas[m.id] ?? ""} onChange={(e) => setMetas((all) => ({ ...all, [m.id]: e.target.value }))}>
                      <option value="">—</option>
                      {m.enum_options.map((o) => (
                        <option key={String(o)} value={String(o)}>
                          {String(o)}
                        </option>
                      ))}
                    </select>
                  ) : (
                    <input
                      type={m.field_type === "date" ? "date" : "text"}
                      placeholder={m.default_value ?? ""}
                      value={metas[m.id] ?? ""}
                      onChange={(e) => setMetas((all) => ({ ...all, [m.id]: e.target.value }))}
                    />
                  )}
                </Field>
              ))}
            </div>
          </fieldset>
        )}
        <div className="span-2">
          <FormError error={save.error} />
        </div>
      </form>
    </Dialog>
  );
}

function errorFor(fields: Record<string, string>, prefix: string, _id: string): string | undefined {
  const key = Object.keys(fields).find((k) => k.startsWith(prefix));
  return key ? fields[key] : undefined;
}

function FieldValueInput({ def, value, error, onChange }: { def: FieldDef; value: string; error?: string; onChange: (v: string) => void }) {
  const label = `${def.display_name}${def.is_required ? " *" : ""}`;
  const hint = (
    <>
      <code>{def.name}</code> · {def.field_type}
    </>
  );
  if (def.field_type === "enum" && def.enum_options?.length) {
    return (
      <Field label={label} hint={hint} error={error}>
        <select value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">—</option>
          {def.enum_options.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      </Field>
    );
  }
  if (def.field_type === "boolean") {
    return (
      <Field label={label} hint={hint} error={error}>
        <select value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">—</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      </Field>
    );
  }
  return (
    <Field label={label} hint={hint} error={error}>
      <input value={value} onChange={(e) => onChange(e.target.value)} />
    </Field>
  );
}
