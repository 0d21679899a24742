import type { EventStatus } from "../api/client";

export const EVENT_STATUSES: EventStatus[] = [
  "draft",
  "in_review",
  "ready_for_dev",
  "implemented",
  "live",
  "deprecated",
  "archived",
];

export function statusLabel(status: string): string {
  const label = status.replace(/_/g, " ");
  return label.charAt(0).toUpperCase() + label.slice(1);
}

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "3 days ago" style, relative to `now`. */
export function relativeTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "never";
  const seconds = (new Date(iso).getTime() - now.getTime()) / 1000;
  const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" });
}

/** Splits a field value into literal text and ${variable} references. */
export function splitVariables(value: string): { text: string; variable: boolean }[] {
  const parts: { text: string; variable: boolean }[] = [];
  const pattern = /\$\{([^}]+)\}/g;
  let last = 0;
  for (const match of value.matchAll(pattern)) {
    if (match.index > last) parts.push({ text: value.slice(last, match.index), variable: false });
    parts.push({ text: match[1], variable: true });
    last = match.index + match[0].length;
  }
  if (last < value.length) parts.push({ text: value.slice(last), variable: false });
  return parts;
}

/** A meta value's link from the meta field's template ("https://jira/browse/{value}"), if any. */
export function metaLink(template: string | null | undefined, value: string): string | null {
  if (!template || !value) return null;
  const encoded = encodeURIComponent(value);
  const url = template.split("${value}").join(encoded).split("{value}").join(encoded);
  return /^https?:\/\//i.test(url) ? url : null;
}

export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
}

/** Moves item at `from` to `to` (for up/down and drag ordering). */
export function moveItem<T>(items: T[], from: number, to: number): T[] {
  if (from === to || to < 0 || to >= items.length) return items;
  const copy = items.slice();
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item);
  return copy;
}
