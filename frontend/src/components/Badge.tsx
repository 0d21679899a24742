import type { ReactNode } from "react";
import { statusLabel } from "../lib/format";

export function Badge({ children, tone = "neutral", title }: { children: ReactNode; tone?: string; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

const STATUS_TONES: Record<string, string> = {
  draft: "neutral",
  in_review: "warning",
  ready_for_dev: "info",
  implemented: "accent",
  live: "success",
  deprecated: "danger",
  archived: "muted",
};

export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={STATUS_TONES[status] ?? "neutral"}>{statusLabel(status)}</Badge>;
}
