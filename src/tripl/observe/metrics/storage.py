"""Writing one collected chunk: its series replace what was stored for the chunk, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Uuid, delete, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from tripl.core.db import UTCDateTime
from tripl.observe.metrics import aggregation as agg
from tripl.observe.metrics.models import AppVersionPoint, BreakdownPoint, CoveragePoint, MetricPoint
from tripl.observe.reconciliation.models import ShadowEvent
from tripl.plan.events.models import Event

SERIES_TABLES = (MetricPoint, BreakdownPoint, AppVersionPoint, CoveragePoint)
SCOPE_COLUMNS = ("scan_config_id", "scope_type", "scope_ref", "event_type_id", "event_id")


def write_chunk(
    db: Session,
    scan_id: uuid.UUID,
    project_id: uuid.UUID,
    chunk_start: datetime,
    chunk_end: datetime,
    counts: agg.ChunkCounts,
    versions: dict[tuple[agg.Scope, datetime, str, bool], int],
    breakdowns: dict[agg.BreakdownKey, int],
    named_this_run: set[str],
) -> None:
    """Replace the chunk's stored series of this scan and refresh shadows and last-seen times, in the
    caller's transaction `db`."""
    for table in SERIES_TABLES:
        db.execute(
            delete(table).where(
                table.scan_config_id == scan_id, table.bucket >= chunk_start, table.bucket < chunk_end
            )
        )
    writer = _BulkWriter(db, scan_id)
    scope, bucket = writer.scopes, writer.buckets
    # Each table's rows in its primary key's order (the scan is the same on every row), so the
    # b-tree fills page by page instead of touching a random page per row.
    writer.insert(
        MetricPoint,
        ("bucket", "count"),
        [(*scope[s], bucket[b], c) for (s, b), c in counts.metrics.items()],
        order=itemgetter(1, 2, 5),
    )
    writer.insert(
        AppVersionPoint,
        ("bucket", "count", "version", "is_other"),
        [(*scope[s], bucket[b], c, v, o) for (s, b, v, o), c in versions.items()],
        order=itemgetter(1, 2, 5, 7),
    )
    writer.insert(
        BreakdownPoint,
        ("bucket", "count", "column", "value", "is_other"),
        [(*scope[s], bucket[b], c, col, v, o) for (s, col, b, v, o), c in breakdowns.items()],
        order=itemgetter(1, 2, 7, 5, 8),
    )
    writer.insert(
        CoveragePoint,
        ("scan_config_id", "bucket", "total_count", "matched_count"),
        [(writer.scan_ref, bucket[b], t, counts.matched[b]) for b, t in counts.total.items()],
        order=itemgetter(1),
        scoped=False,
    )
    _touch_last_seen(db, counts.last_seen)
    _upsert_shadows(db, scan_id, project_id, counts.unmatched, named_this_run)


class _BulkWriter:
    """Plain-tuple bulk inserts on the session's own connection (so inside its transaction).

    Tens of thousands of series rows per chunk are the bulk of a collection's cost, so rows skip
    SQLAlchemy's per-row parameter processing: each distinct scope and bucket is converted with the
    column types' own bind processors once, and the rows go to the driver in one `executemany`
    (SQLite) or one COPY (PostgreSQL with psycopg).
    """

    def __init__(self, db: Session, scan_id: uuid.UUID) -> None:
        self.connection = db.connection()
        self.dialect = self.connection.dialect
        self._uuid = _processor(Uuid(), self.dialect)
        self._time = _processor(UTCDateTime(), self.dialect)
        self._enum = _processor(MetricPoint.__table__.c.scope_type.type, self.dialect)
        self.scan_ref = self._uuid(scan_id)
        self.scopes = _Converted(self._scope_columns)  # Scope -> its five column values
        self.buckets = _Converted(self._time)

    def _scope_columns(self, scope: agg.Scope) -> tuple[Any, ...]:
        return (
            self.scan_ref,
            self._enum(scope.scope_type),
            scope.scope_ref,
            self._uuid(scope.event_type_id),
            self._uuid(scope.event_id),
        )

    def insert(
        self,
        model: type[Any],
        columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
        *,
        order: Callable[[tuple[Any, ...]], Any],
        scoped: bool = True,
    ) -> None:
        if not rows:
            return
        names = (*SCOPE_COLUMNS, *columns) if scoped else columns
        quote = self.dialect.identifier_preparer.quote
        table = quote(model.__tablename__)
        column_list = ", ".join(quote(name) for name in names)
        rows.sort(key=order)
        raw = self.connection.connection.driver_connection
        assert raw is not None
        if self.dialect.name == "postgresql" and self.dialect.driver == "psycopg":
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marker = "?" if self.dialect.paramstyle == "qmark" else "%s"
        markers = ", ".join([marker] * len(names))
        sql = f"INSERT INTO {table} ({column_list}) VALUES ({markers})"  # noqa: S608 (names from the models)
        cursor = raw.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()


class _Converted(dict[Any, Any]):
    """value -> its converted form, converted once per distinct value."""

    def __init__(self, convert: Callable[[Any], Any]) -> None:
        super().__init__()
        self._convert = convert

    def __missing__(self, value: Any) -> Any:
        converted = self[value] = self._convert(value)
        return converted


def _processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any]:
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return lambda value: value
    return lambda value: None if value is None else process(value)


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
