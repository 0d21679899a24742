"""Writing one collected chunk: its series replace what was stored for the chunk, atomically."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from tripl.core.context import TriplContext
from tripl.observe.metrics import aggregation as agg
from tripl.observe.metrics.models import AppVersionPoint, BreakdownPoint, CoveragePoint, MetricPoint
from tripl.observe.reconciliation.models import ShadowEvent
from tripl.plan.events.models import Event

SERIES_TABLES = (MetricPoint, BreakdownPoint, AppVersionPoint, CoveragePoint)


def _series_rows(scan_id: uuid.UUID, scope: agg.Scope, bucket: datetime, count: int) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "scan_config_id": scan_id,
        "scope_type": scope.scope_type,
        "scope_ref": scope.scope_ref,
        "event_type_id": scope.event_type_id,
        "event_id": scope.event_id,
        "bucket": bucket,
        "count": count,
    }


def write_chunk(
    ctx: TriplContext,
    scan_id: uuid.UUID,
    project_id: uuid.UUID,
    chunk_start: datetime,
    chunk_end: datetime,
    counts: agg.ChunkCounts,
    versions: dict[tuple[agg.Scope, datetime, str, bool], int],
    breakdowns: dict[agg.BreakdownKey, int],
    named_this_run: set[str],
) -> None:
    """Replace the chunk's stored series of this scan and refresh shadows and last-seen times, atomically."""
    with ctx.db.transaction() as db:
        for table in SERIES_TABLES:
            db.execute(
                delete(table).where(
                    table.scan_config_id == scan_id, table.bucket >= chunk_start, table.bucket < chunk_end
                )
            )
        metric_rows = [_series_rows(scan_id, s, b, c) for (s, b), c in counts.metrics.items()]
        version_rows = [
            {**_series_rows(scan_id, s, b, c), "version": v, "is_other": o}
            for (s, b, v, o), c in versions.items()
        ]
        breakdown_rows = [
            {**_series_rows(scan_id, s, b, c), "column": col, "value": v, "is_other": o}
            for (s, col, b, v, o), c in breakdowns.items()
        ]
        coverage_rows = [
            {
                "id": uuid.uuid4(),
                "scan_config_id": scan_id,
                "bucket": b,
                "total_count": t,
                "matched_count": counts.matched[b],
            }
            for b, t in counts.total.items()
        ]
        for model, rows in (
            (MetricPoint, metric_rows),
            (AppVersionPoint, version_rows),
            (BreakdownPoint, breakdown_rows),
            (CoveragePoint, coverage_rows),
        ):
            if rows:
                # Core executemany: one batched statement, not the ORM's per-row bookkeeping.
                db.connection().execute(insert(model), rows)
        _touch_last_seen(db, counts.last_seen)
        _upsert_shadows(db, scan_id, project_id, counts.unmatched, named_this_run)


def _touch_last_seen(db: Session, last_seen: dict[uuid.UUID, datetime]) -> None:
    """Event.last_seen_at moves forward only; one UPDATE per distinct newest bucket."""
    by_bucket: dict[datetime, list[uuid.UUID]] = {}
    for event_id, bucket in last_seen.items():
        by_bucket.setdefault(bucket, []).append(event_id)
    for bucket, ids in by_bucket.items():
        db.execute(
            update(Event)
            .where(Event.id.in_(ids), (Event.last_seen_at.is_(None)) | (Event.last_seen_at < bucket))
            .values(last_seen_at=bucket)
            .execution_options(synchronize_session=False)
        )


def _upsert_shadows(
    db: Session,
    scan_id: uuid.UUID,
    project_id: uuid.UUID,
    unmatched: dict[str, agg.Unmatched],
    named_this_run: set[str],
) -> None:
    """Candidates keyed (scan, name): seen times widened, status left to users; `observed_count` is
    the count over this run's window (set by the run's first chunk naming it, then added to)."""
    if not unmatched:
        return
    existing = {
        s.event_name: s
        for s in db.scalars(
            select(ShadowEvent).where(
                ShadowEvent.scan_config_id == scan_id, ShadowEvent.event_name.in_(list(unmatched))
            )
        )
    }
    for name, seen in unmatched.items():
        shadow = existing.get(name)
        if shadow is None:
            db.add(
                ShadowEvent(
                    project_id=project_id,
                    scan_config_id=scan_id,
                    event_type_id=seen.event_type_id,
                    event_name=name,
                    observed_count=seen.count,
                    first_seen_at=seen.first_bucket,
                    last_seen_at=seen.last_bucket,
                )
            )
            continue
        shadow.observed_count = seen.count + (shadow.observed_count if name in named_this_run else 0)
        shadow.event_type_id = seen.event_type_id or shadow.event_type_id
        shadow.first_seen_at = min(shadow.first_seen_at, seen.first_bucket)
        shadow.last_seen_at = max(shadow.last_seen_at, seen.last_bucket)
