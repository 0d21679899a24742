import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, errorMessage, unwrap } from "../api/client";
import { useCanEdit } from "../auth/session";
import { Badge, StatusBadge } from "../components/Badge";
import { ConfirmDialog } from "../components/Dialog";
import { FormError } from "../components/Field";
import { useToast } from "../components/Toast";
import { formatDateTime, metaLink, relativeTime, splitVariables, statusLabel } from "../lib/format";
import { useEventTypes, useMetaFields, useUsers } from "../lib/queries";
import { EventFormDialog } from "./EventFormDialog";
import { VolumeCard } from "./MetricsCards";
import { PhotosSection } from "./PhotosSection";

export function EventDetailPage() {
  const { slug = "", eventId = "" } = useParams();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const client = useQueryClient();
  const notify = useToast();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const types = useEventTypes(slug);
  const metaFields = useMetaFields(slug);
  const users = useUsers();
  const path = { path: { slug, event_id: eventId } };
  const event = useQuery({
    queryKey: ["event", slug, eventId],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/events/{event_id}", { params: path })),
  });
  const history = useQuery({
    queryKey: ["history", slug, eventId],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/events/{event_id}/history", { params: path })),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/projects/{slug}/events/{event_id}", { params: path })),
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["events", slug] });
      notify("Event deleted");
      navigate(`/p/${slug}/events`);
    },
  });

  if (event.error) {
    return (
      <div className="page">
        <FormError error={event.error} />
        <Link to={`/p/${slug}/events`}>← Back to events</Link>
      </div>
    );
  }
  const e = event.data;
  if (!e) return <div className="page page-loading" aria-busy="true">Loading event…</div>;
  const type = types.data?.find((t) => t.id === e.event_type_id);
  const owner = users.data?.find((u) => u.id === e.owner_id);
  const valueByField = new Map(e.field_values.map((v) => [v.field_definition_id, v]));
  const metaById = new Map(e.meta_values.map((v) => [v.meta_field_definition_id, v.value]));

  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to={`/p/${slug}/events`}>Events</Link> <span aria-hidden>/</span> <span>{e.name}</span>
      </nav>
      <header className="page-header">
        <div>
          <h1 className="event-title">
            <span className="type-dot" style={{ background: e.event_type.color || "var(--muted)" }} aria-hidden />
            {e.name}
          </h1>
          <div className="meta-row">
            <StatusBadge status={e.status} />
            <Badge tone="outline">{e.event_type.display_name}</Badge>
            {e.reviewed ? <Badge tone="success">Reviewed</Badge> : <Badge tone="muted">Not reviewed</Badge>}
            {e.tags.map((t) => (
              <span key={t.id} className="tag">
                {t.name}
              </span>
            ))}
          </div>
        </div>
        {canEdit && (
          <div className="page-actions">
            <button type="button" className="btn" onClick={() => setEditing(true)}>
              Edit event
            </button>
            <button type="button" className="btn btn-danger-outline" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </div>
        )}
      </header>
      {e.description && <p className="lead">{e.description}</p>}

      <div className="detail-grid">
        <section className="card">
          <h2>Fields</h2>
          {(type?.field_definitions ?? []).length === 0 ? (
            <p className="muted">This event type declares no fields.</p>
          ) : (
            <table className="table table-compact">
              <thead>
                <tr>
                  <th>Field</th>
                  <th>Type</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                {type?.field_definitions?.map((f) => {
                  const v = valueByField.get(f.id);
                  return (
                    <tr key={f.id}>
                      <td>
                        <div>{f.display_name}</div>
                        <code className="muted small">{f.name}</code>
                        {f.is_required && <Badge tone="warning">required</Badge>}
                        {f.sensitivity !== "none" && <Badge tone="danger">{f.sensitivity}</Badge>}
                      </td>
                      <td className="small">{f.field_type}</td>
                      <td>
                        {v ? <Value value={v.value} /> : <span className="muted">—</span>}
                        {v?.variable_values?.map((vv) => (
                          <div key={vv.id} className="small muted">
                            ${"{"}
                            {vv.variable_name}
                            {"}"} seen: {vv.values.slice(0, 5).join(", ") || "no samples yet"}
                          </div>
                        ))}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </section>
        <aside className="card">
          <h2>Details</h2>
          <dl className="details">
            <dt>Owner</dt>
            <dd>{owner ? owner.name || owner.email : <span className="muted">No owner</span>}</dd>
            <dt>Last seen</dt>
            <dd title={e.last_seen_at ?? ""}>{relativeTime(e.last_seen_at)}</dd>
            <dt>Source name</dt>
            <dd>
              <code>{e.source_name || "—"}</code>
            </dd>
            <dt>Created</dt>
            <dd>{formatDateTime(e.created_at)}</dd>
            <dt>Updated</dt>
            <dd>{formatDateTime(e.updated_at)}</dd>
            {metaFields.data?.map((m) => {
              const value = metaById.get(m.id) ?? "";
              const link = metaLink(m.link_template, value);
              return (
                <div key={m.id} className="details-pair">
                  <dt>{m.display_name}</dt>
                  <dd>
                    {!value ? (
                      <span className="muted">—</span>
                    ) : link ? (
                      <a href={link} target="_blank" rel="noreferrer noopener">
                        {value} ↗
                      </a>
                    ) : (
                      value
                    )}
                  </dd>
                </div>
              );
            })}
          </dl>
        </aside>
      </div>

      <VolumeCard slug={slug} eventId={eventId} />

      <PhotosSection slug={slug} eventId={eventId} canEdit={canEdit} />

      <section className="card">
        <h2>History</h2>
        <FormError error={history.error} />
        {history.data?.length === 0 && <p className="muted">No changes recorded yet.</p>}
        <ol className="timeline" aria-label="History">
          {history.data?.map((h) => (
            <li key={h.id}>
              <div className="timeline-dot" aria-hidden />
              <div>
                {h.field === "created" ? (
                  <div>
                    <strong>{h.user_email ?? "system"}</strong> created the event
                  </div>
                ) : (
                <div>
                  <strong>{h.user_email ?? "system"}</strong> changed <strong>{humanField(h.field)}</strong>
                  {h.old_value !== null && (
                    <>
                      {" "}
                      from <span className="diff-old">{display(h.field, h.old_value)}</span>
                    </>
                  )}
                  {h.new_value !== null && (
                    <>
                      {" "}
                      to <span className="diff-new">{display(h.field, h.new_value)}</span>
                    </>
                  )}
                </div>
                )}
                <time className="muted small" dateTime={h.created_at} title={formatDateTime(h.created_at)}>
                  {relativeTime(h.created_at)}
                </time>
              </div>
            </li>
          ))}
        </ol>
      </section>

      {editing && types.data && (
        <EventFormDialog slug={slug} types={types.data} event={e} onClose={() => setEditing(false)} />
      )}
      <ConfirmDialog
        open={deleting}
        title="Delete event?"
        message={<p>“{e.name}” will be deleted with its photos and history.</p>}
        confirmLabel="Delete event"
        danger
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : null}
        onConfirm={() => remove.mutate()}
        onClose={() => setDeleting(false)}
      />
    </div>
  );
}

function humanField(field: string): string {
  return field.replace(/_/g, " ");
}

function display(field: string, value: string): string {
  if (field === "status") return statusLabel(value);
  return value.length > 120 ? value.slice(0, 117) + "…" : value;
}

/** A field value with its ${variable} references set apart. */
export function Value({ value }: { value: string }) {
  return (
    <span className="value">
      {splitVariables(value).map((part, i) =>
        part.variable ? (
          <span key={i} className="variable" title="Variable">
            ${"{"}
            {part.text}
            {"}"}
          </span>
        ) : (
          <span key={i}>{part.text}</span>
        ),
      )}
    </span>
  );
}
