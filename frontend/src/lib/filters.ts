import type { EventStatus } from "../api/client";
import { EVENT_STATUSES } from "./format";

/** The event catalog's filters, as kept in the URL (so a filtered view can be shared and reloaded). */
export type EventFilters = {
  type: string;
  q: string;
  status: EventStatus[];
  tag: string;
  silent: string;
  field: string;
  meta: string;
  page: number;
};

export function readFilters(params: URLSearchParams): EventFilters {
  return {
    type: params.get("type") ?? "",
    q: params.get("q") ?? "",
    status: params.getAll("status").filter((s): s is EventStatus => EVENT_STATUSES.includes(s as EventStatus)),
    tag: params.get("tag") ?? "",
    silent: params.get("silent") ?? "",
    field: params.get("field") ?? "",
    meta: params.get("meta") ?? "",
    page: Math.max(1, Number(params.get("page")) || 1),
  };
}

export function writeFilters(filters: EventFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.type) params.set("type", filters.type);
  if (filters.q) params.set("q", filters.q);
  for (const s of filters.status) params.append("status", s);
  if (filters.tag) params.set("tag", filters.tag);
  if (filters.silent) params.set("silent", filters.silent);
  if (filters.field) params.set("field", filters.field);
  if (filters.meta) params.set("meta", filters.meta);
  if (filters.page > 1) params.set("page", String(filters.page));
  return params;
}

export const PAGE_SIZE = 100;

/** The API query for the list route: only the filters that are set. */
export function apiQuery(filters: EventFilters) {
  return {
    event_type_id: filters.type || undefined,
    search: filters.q || undefined,
    status: filters.status.length ? filters.status : undefined,
    tag: filters.tag || undefined,
    silent_since_days: filters.silent ? Number(filters.silent) : undefined,
    field_value: filters.field || undefined,
    meta_value: filters.meta || undefined,
    offset: (filters.page - 1) * PAGE_SIZE,
    limit: PAGE_SIZE,
  };
}

export function hasFilters(filters: EventFilters): boolean {
  return Boolean(
    filters.type || filters.q || filters.status.length || filters.tag || filters.silent || filters.field || filters.meta,
  );
}
