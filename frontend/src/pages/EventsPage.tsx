import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { api, errorMessage, unwrap, type EventItem, type EventStatus } from "../api/client";
import { useCanEdit } from "../auth/session";
import { StatusBadge } from "../components/Badge";
import { Sparkline } from "../components/Sparkline";
import { ConfirmDialog } from "../components/Dialog";
import { EmptyState } from "../components/EmptyState";
import { FormError } from "../components/Field";
import { PageHeader } from "../components/Layout";
import { useToast } from "../components/Toast";
import { apiQuery, hasFilters, PAGE_SIZE, readFilters, writeFilters, type EventFilters } from "../lib/filters";
import { EVENT_STATUSES, moveItem, relativeTime, statusLabel } from "../lib/format";
import { useEventTypes, useTags, useUsers } from "../lib/queries";
import { EventFormDialog } from "./EventFormDialog";

type BulkAction =
  | { kind: "status"; status: EventStatus }
  | { kind: "owner"; ownerId: string | null }
  | { kind: "reviewed"; reviewed: boolean }
  | { kind: "delete" };

export function EventsPage() {
  const { slug = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const filters = readFilters(params);
  const canEdit = useCanEdit();
  const client = useQueryClient();
  const notify = useToast();
  const types = useEventTypes(slug);
  const users = useUsers();
  const tags = useTags(slug);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [creating, setCreating] = useState(false);
  const [pending, setPending] = useState<BulkAction | null>(null);
  const [dragId, setDragId] = useState<string | null>(null);

  const query = apiQuery(filters);
  const events = useQuery({
    queryKey: ["events", slug, query],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{slug}/events", { params: { path: { slug }, query } })),
    placeholderData: keepPreviousData,
  });
  const rows = useMemo(() => events.data?.items ?? [], [events.data]);
  const rowIds = rows.map((r) => r.id);
  // Seven days of volume for the visible page, in one request.
  const volume = useQuery({
    queryKey: ["window-metrics", slug, rowIds],
    enabled: rowIds.length > 0,
    staleTime: 60_000,
    queryFn: () => {
      const to = new Date();
      const from = new Date(to.getTime() - 7 * 24 * 3600 * 1000);
      return unwrap(
        api.POST("/api/v1/projects/{slug}/events/window-metrics", {
          params: { path: { slug } },
          body: { event_ids: rowIds, time_from: from.toISOString(), time_to: to.toISOString() },
        }),
      );
    },
  });
  const volumeById = new Map(volume.data?.map((v) => [v.event_id, v]));
  const showVolume = volume.data?.some((v) => v.total_count > 0) ?? false;
  const total = events.data?.total ?? 0;
  const typeById = new Map(types.data?.map((t) => [t.id, t]));
  const userById = new Map(users.data?.map((u) => [u.id, u]));

  const update = (patch: Partial<EventFilters>) => {
    setSelected(new Set());
    setParams(writeFilters({ ...filters, page: 1, ...patch }), { replace: true });
  };

  const refresh = () => {
    client.invalidateQueries({ queryKey: ["events", slug] });
    client.invalidateQueries({ queryKey: ["projects"] });
    client.invalidateQueries({ queryKey: ["tags", slug] });
  };

  const bulk = useMutation({
    mutationFn: async (action: BulkAction) => {
      const event_ids = [...selected];
      const path = { path: { slug } };
      if (action.kind === "delete")
        return unwrap(api.POST("/api/v1/projects/{slug}/events/bulk-delete", { params: path, body: { event_ids } }));
      const body =
        action.kind === "status"
          ? { event_ids, status: action.status }
          : action.kind === "owner"
            ? { event_ids, owner_id: action.ownerId }
            : { event_ids, reviewed: action.reviewed };
      return unwrap(api.POST("/api/v1/projects/{slug}/events/bulk-update", { params: path, body }));
    },
    onSuccess: (_data, action) => {
      notify(`${action.kind === "delete" ? "Deleted" : "Updated"} ${selected.size} event${selected.size === 1 ? "" : "s"}`);
      setSelected(new Set());
      setPending(null);
      refresh();
    },
  });

  const move = useMutation({
    mutationFn: ({ id, direction }: { id: string; direction: "up" | "down" }) =>
      unwrap(
        api.PATCH("/api/v1/projects/{slug}/events/{event_id}/move", {
          params: { path: { slug, event_id: id } },
          body: { direction, visible_event_ids: rows.map((r) => r.id) },
        }),
      ),
    onSuccess: refresh,
    onError: (e) => notify(errorMessage(e), "error"),
  });
  const reorder = useMutation({
    mutationFn: (ids: string[]) =>
      unwrap(api.PATCH("/api/v1/projects/{slug}/events/reorder", { params: { path: { slug } }, body: { event_ids: ids } })),
    onSuccess: refresh,
    onError: (e) => notify(errorMessage(e), "error"),
  });

  const dropOn = (targetId: string) => {
    if (!dragId || dragId === targetId) return;
    const ids = rows.map((r) => r.id);
    reorder.mutate(moveItem(ids, ids.indexOf(dragId), ids.indexOf(targetId)));
    setDragId(null);
  };

  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const toggle = (id: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const noTypes = types.data?.length === 0;

  return (
    <div className="page page-wide">
      <PageHeader
        title="Events"
        subtitle={events.data ? `${total} event${total === 1 ? "" : "s"}${hasFilters(filters) ? " match the filters" : ""}` : " "}
        actions={
          canEdit && (
            <button type="button" className="btn btn-primary" disabled={noTypes} onClick={() => setCreating(true)}>
              New event
            </button>
          )
        }
      />
      <div className="filters" role="search">
        <DebouncedInput
          type="search"
          label="Search events"
          placeholder="Search name, description, source…"
          value={filters.q}
          onCommit={(q) => update({ q })}
        />
        <select aria-label="Event type" value={filters.type} onChange={(e) => update({ type: e.target.value })}>
          <option value="">All event types</option>
          {types.data?.map((t) => (
            <option key={t.id} value={t.id}>
              {t.display_name}
            </option>
          ))}
        </select>
        <select aria-label="Tag" value={filters.tag} onChange={(e) => update({ tag: e.target.value })}>
          <option value="">Any tag</option>
          {tags.data?.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <select aria-label="Silent since" value={filters.silent} onChange={(e) => update({ silent: e.target.value })}>
          <option value="">Any last-seen</option>
          <option value="1">Silent ≥ 1 day</option>
          <option value="7">Silent ≥ 7 days</option>
          <option value="30">Silent ≥ 30 days</option>
          <option value="90">Silent ≥ 90 days</option>
        </select>
        <DebouncedInput
          label="Field value contains"
          placeholder="Field value…"
          value={filters.field}
          onCommit={(field) => update({ field })}
        />
        <DebouncedInput
          label="Meta value contains"
          placeholder="Meta value…"
          value={filters.meta}
          onCommit={(meta) => update({ meta })}
        />
        {hasFilters(filters) && (
          <button type="button" className="btn btn-ghost" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
            Clear filters
          </button>
        )}
      </div>
      <div className="chip-row" role="group" aria-label="Status filter">
        {EVENT_STATUSES.map((s) => {
          const on = filters.status.includes(s);
          return (
            <button
              key={s}
              type="button"
              className={on ? "chip chip-on" : "chip"}
              aria-pressed={on}
              onClick={() => update({ status: on ? filters.status.filter((x) => x !== s) : [...filters.status, s] })}
            >
              {statusLabel(s)}
            </button>
          );
        })}
      </div>

      {canEdit && selected.size > 0 && (
        <div className="bulk-bar" role="region" aria-label="Bulk actions">
          <strong>{selected.size} selected</strong>
          <select
            aria-label="Set status"
            value=""
            onChange={(e) => e.target.value && setPending({ kind: "status", status: e.target.value as EventStatus })}
          >
            <option value="">Set status…</option>
            {EVENT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
          <select
            aria-label="Set owner"
            value=""
            onChange={(e) =>
              e.target.value && setPending({ kind: "owner", ownerId: e.target.value === "none" ? null : e.target.value })
            }
          >
            <option value="">Set owner…</option>
            <option value="none">No owner</option>
            {users.data?.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name || u.email}
              </option>
            ))}
          </select>
          <button type="button" className="btn" onClick={() => setPending({ kind: "reviewed", reviewed: true })}>
            Mark reviewed
          </button>
          <button type="button" className="btn" onClick={() => setPending({ kind: "reviewed", reviewed: false })}>
            Mark unreviewed
          </button>
          <button type="button" className="btn btn-danger" onClick={() => setPending({ kind: "delete" })}>
            Delete
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
        </div>
      )}

      <FormError error={events.error} />
      {events.isPending && <div className="skeleton-table" aria-busy="true" aria-label="Loading events" />}
      {events.data && rows.length === 0 && (
        hasFilters(filters) ? (
          <EmptyState title="No events match these filters">Loosen or clear the filters to see more events.</EmptyState>
        ) : noTypes ? (
          <EmptyState
            title="Define an event type first"
            action={
              <Link className="btn btn-primary" to={`/p/${slug}/event-types`}>
                Go to event types
              </Link>
            }
          >
            Every event belongs to an event type, which declares the fields the event sends.
          </EmptyState>
        ) : (
          <EmptyState
            title="No events yet"
            action={
              canEdit && (
                <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
                  Add the first event
                </button>
              )
            }
          >
            Add the events your product sends, with their field values.
          </EmptyState>
        )
      )}
      {rows.length > 0 && (
        <div className={events.isFetching ? "table-wrap is-fetching" : "table-wrap"}>
          <table className="table events-table">
            <caption className="sr-only">Events</caption>
            <thead>
              <tr>
                {canEdit && (
                  <th className="col-check">
                    <input
                      type="checkbox"
                      aria-label="Select all events on this page"
                      checked={allSelected}
                      onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.id)))}
                    />
                  </th>
                )}
                {canEdit && <th className="col-order">Order</th>}
                <th>Event</th>
                <th>Type</th>
                <th>Status</th>
                <th>Tags</th>
                <th>Owner</th>
                {showVolume && <th>Volume, 7 days</th>}
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e, index) => (
                <EventRow
                  key={e.id}
                  event={e}
                  slug={slug}
                  canEdit={canEdit}
                  selected={selected.has(e.id)}
                  onToggle={() => toggle(e.id)}
                  typeName={typeById.get(e.event_type_id)?.display_name ?? "—"}
                  typeColor={typeById.get(e.event_type_id)?.color}
                  owner={e.owner_id ? (userById.get(e.owner_id)?.name || userById.get(e.owner_id)?.email) : undefined}
                  first={index === 0}
                  last={index === rows.length - 1}
                  onMove={(direction) => move.mutate({ id: e.id, direction })}
                  dragging={dragId === e.id}
                  onDragStart={() => setDragId(e.id)}
                  onDrop={() => dropOn(e.id)}
                  volume={showVolume ? (volumeById.get(e.id) ?? null) : undefined}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pages > 1 && (
        <nav className="pager" aria-label="Pages">
          <button
            type="button"
            className="btn"
            disabled={filters.page <= 1}
            onClick={() => setParams(writeFilters({ ...filters, page: filters.page - 1 }))}
          >
            ← Previous
          </button>
          <span>
            Page {filters.page} of {pages}
          </span>
          <button
            type="button"
            className="btn"
            disabled={filters.page >= pages}
            onClick={() => setParams(writeFilters({ ...filters, page: filters.page + 1 }))}
          >
            Next →
          </button>
        </nav>
      )}
      {creating && types.data && <EventFormDialog slug={slug} types={types.data} onClose={() => setCreating(false)} />}
      <ConfirmDialog
        open={pending !== null}
        title={pending?.kind === "delete" ? "Delete events?" : "Update events?"}
        message={<p>{describeBulk(pending, selected.size, (id) => userById.get(id)?.email ?? id)}</p>}
        confirmLabel={pending?.kind === "delete" ? `Delete ${selected.size}` : `Apply to ${selected.size}`}
        danger={pending?.kind === "delete"}
        busy={bulk.isPending}
        error={bulk.error ? errorMessage(bulk.error) : null}
        onConfirm={() => pending && bulk.mutate(pending)}
        onClose={() => {
          setPending(null);
          bulk.reset();
        }}
      />
    </div>
  );
}

type DebouncedProps = {
  label: string;
  placeholder: string;
  value: string;
  onCommit: (value: string) => void;
  type?: string;
};

/** A text filter that follows the URL (back, clear) and writes to it 300 ms after typing stops. */
function DebouncedInput({ label, placeholder, value, onCommit, type = "text" }: DebouncedProps) {
  const [text, setText] = useState(value);
  const commit = useRef(onCommit);
  useEffect(() => {
    commit.current = onCommit;
  });
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text.trim() === value) return;
    const timer = setTimeout(() => commit.current(text.trim()), 300);
    return () => clearTimeout(timer);
  }, [text, value]);
  return <input type={type} aria-label={label} placeholder={placeholder} value={text} onChange={(e) => setText(e.target.value)} />;
}

function describeBulk(action: BulkAction | null, count: number, userLabel: (id: string) => string): string {
  const events = `${count} selected event${count === 1 ? "" : "s"}`;
  if (!action) return "";
  switch (action.kind) {
    case "delete":
      return `The ${events} will be deleted with their field values, photos and history.`;
    case "status":
      return `Set the status of the ${events} to “${statusLabel(action.status)}”.`;
    case "owner":
      return action.ownerId ? `Make ${userLabel(action.ownerId)} the owner of the ${events}.` : `Remove the owner of the ${events}.`;
    case "reviewed":
      return `Mark the ${events} as ${action.reviewed ? "reviewed" : "not reviewed"}.`;
  }
}

type RowProps = {
  event: EventItem;
  slug: string;
  canEdit: boolean;
  selected: boolean;
  onToggle: () => void;
  typeName: string;
  typeColor?: string;
  owner?: string;
  first: boolean;
  last: boolean;
  onMove: (direction: "up" | "down") => void;
  dragging: boolean;
  onDragStart: () => void;
  onDrop: () => void;
  volume?: { total_count: number; data: { count: number }[] } | null;
};

function EventRow(p: RowProps) {
  const e = p.event;
  const [over, setOver] = useState(false);
  useEffect(() => setOver(false), [p.dragging]);
  return (
    <tr
      className={[p.selected ? "row-selected" : "", over ? "row-drop" : "", p.dragging ? "row-dragging" : ""].join(" ")}
      draggable={p.canEdit}
      onDragStart={p.onDragStart}
      onDragOver={(ev) => {
        ev.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(ev) => {
        ev.preventDefault();
        setOver(false);
        p.onDrop();
      }}
    >
      {p.canEdit && (
        <td className="col-check">
          <input type="checkbox" aria-label={`Select ${e.name}`} checked={p.selected} onChange={p.onToggle} />
        </td>
      )}
      {p.canEdit && (
        <td className="col-order">
          <span className="drag-handle" aria-hidden title="Drag to reorder">
            ⋮⋮
          </span>
          <button type="button" className="btn btn-ghost btn-xs" aria-label={`Move ${e.name} up`} disabled={p.first} onClick={() => p.onMove("up")}>
            ↑
          </button>
          <button type="button" className="btn btn-ghost btn-xs" aria-label={`Move ${e.name} down`} disabled={p.last} onClick={() => p.onMove("down")}>
            ↓
          </button>
        </td>
      )}
      <td>
        <Link to={`/p/${p.slug}/events/${e.id}`} className="event-name">
          {e.name}
        </Link>
        {e.reviewed && (
          <span className="reviewed" title="Reviewed" aria-label="Reviewed">
            ✓
          </span>
        )}
        {e.description && <div className="muted small clamp-1">{e.description}</div>}
      </td>
      <td className="nowrap">
        <span className="type-dot" style={{ background: p.typeColor || "var(--muted)" }} aria-hidden />
        {p.typeName}
      </td>
      <td>
        <StatusBadge status={e.status} />
      </td>
      <td>
        <div className="tags">
          {e.tags.map((t) => (
            <span key={t.id} className="tag">
              {t.name}
            </span>
          ))}
        </div>
      </td>
      <td className="small">{p.owner ?? <span className="muted">—</span>}</td>
      {p.volume !== undefined && (
        <td className="small nowrap">
          {p.volume && p.volume.total_count > 0 ? (
            <span className="volume-cell">
              <Sparkline values={p.volume.data.map((d) => d.count)} label={`${e.name} volume over 7 days`} />
              <span>{p.volume.total_count.toLocaleString()}</span>
            </span>
          ) : (
            <span className="muted">0</span>
          )}
        </td>
      )}
      <td className="small nowrap" title={e.last_seen_at ?? "Never seen in the warehouse"}>
        {relativeTime(e.last_seen_at)}
      </td>
    </tr>
  );
}
