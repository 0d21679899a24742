"""Writing one collected chunk: its points replace what was stored for the chunk, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, Uuid, bindparam, delete, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from tripl.core.db import CompactUTCDateTime, UTCDateTime
from tripl.observe.metrics import aggregation as agg
from tripl.observe.metrics.models import (
    POINTS_TABLE,
    SERIES_TABLE,
    CoveragePoint,
    MetricScopeType,
    SeriesKind,
    SeriesPoint,
)
from tripl.observe.reconciliation.models import ShadowEvent
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event

# What tells a scan's series apart: kind, scope type, scope ref, column, value, is_other.
SeriesKey = tuple[SeriesKind, MetricScopeType, str, str, str, bool]
_series, _points = SERIES_TABLE, POINTS_TABLE


# Built once: a chunk runs each of these with new parameters, and building a statement (plus its
# cache key) cost about as much as SQLite running it.
_series_of_scan = select(_series.c.id).where(_series.c.scan_config_id == bindparam("scan")).scalar_subquery()
_DELETE_POINTS = delete(_points).where(
    _points.c.series_id.in_(_series_of_scan),
    _points.c.bucket >= bindparam("start"),
    _points.c.bucket < bindparam("end"),
)
_coverage = cast(Table, CoveragePoint.__table__)
_DELETE_COVERAGE = delete(_coverage).where(
    _coverage.c.scan_config_id == bindparam("scan"),
    _coverage.c.bucket >= bindparam("start"),
    _coverage.c.bucket < bindparam("end"),
)
# Locked until the chunk commits: a series deleted meanwhile waits, then takes its new points
# along (the points' cascade trigger; they have no foreign key). SQLite's writer lock does the
# same: the chunk's DELETE statements took it before this read.
_SCAN_SERIES = (
    select(
        _series.c.id, _series.c.kind, _series.c.scope_type, _series.c.scope_ref,
        _series.c.column, _series.c.value, _series.c.is_other, _series.c.event_type_id,
    )
    .where(_series.c.scan_config_id == bindparam("scan"))
    .with_for_update(key_share=True)
)  # fmt: skip
_events = cast(Table, Event.__table__)
# Last-seen times only move forward. Seeing an event is not editing it: `updated_at` (what the
# activity feed lists as "updated") stays.
_TOUCH_LAST_SEEN = (
    update(_events)
    .where(
        _events.c.id == bindparam("event"),
        _events.c.last_seen_at.is_(None) | (_events.c.last_seen_at < bindparam("seen")),
    )
    .values(last_seen_at=bindparam("seen"), updated_at=_events.c.updated_at)
)


def write_chunk(
    db: Session,
    scan_id: uuid.UUID,
    project_id: uuid.UUID,
    chunk_start: datetime,
    chunk_end: datetime,
    counts: agg.ChunkCounts,
    points: agg.ChunkPoints,
    named_this_run: set[str],
) -> None:
    """Replace the chunk's stored series points of this scan and refresh shadows and last-seen
    times, in the caller's transaction `db`."""
    connection = db.connection()
    window = {"scan": scan_id, "start": chunk_start, "end": chunk_end}
    connection.execute(_DELETE_POINTS, window)
    connection.execute(_DELETE_COVERAGE, window)
    keys = [
        (r.kind, r.scope.scope_type, r.scope.scope_ref, r.column, r.value, r.is_other) for r in points.series
    ]
    ids = _series_ids(db, scan_id, {key: ref.scope for key, ref in zip(keys, points.series, strict=True)})
    series_id = np.array([ids.get(key, -1) for key in keys] or [0], dtype=np.int64)[points.series_no]
    kept = np.flatnonzero(series_id >= 0)  # not the points of an event or type deleted meanwhile
    ranks = agg.sorted_ranks(points.buckets)[points.bucket_no[kept]]
    order = kept[np.lexsort((ranks, series_id[kept]))]  # the primary key's order
    writer = _BulkWriter(db)
    writer.insert_points(series_id[order], points.buckets, points.bucket_no[order], points.count[order])
    totals = sorted(counts.total.items())
    writer.insert(
        CoveragePoint.__tablename__,
        {
            "scan_config_id": [writer.uuid(scan_id)] * len(totals),
            "bucket": [writer.bucket(bucket) for bucket, _ in totals],
            "total_count": [total for _, total in totals],
            "matched_count": [counts.matched.get(bucket, 0) for bucket, _ in totals],
        },
    )
    _touch_last_seen(db, counts.last_seen)
    _upsert_shadows(db, scan_id, project_id, counts.unmatched, named_this_run)


def _series_ids(db: Session, scan_id: uuid.UUID, wanted: dict[SeriesKey, agg.Scope]) -> dict[SeriesKey, int]:
    """Ids of the scan's series, creating those `wanted` lacks; an event that moved to another
    type takes its series with it. Events and types deleted since the run read the plan get none
    (the deletion took their series; the run must not bring them back)."""
    ids, moved = _stored_series(db, scan_id, wanted)
    missing = _still_planned(db, [key for key in wanted if key not in ids], wanted)
    if missing:
        db.execute(
            insert(_series),
            [
                {
                    "scan_config_id": scan_id,
                    "kind": kind,
                    "scope_type": scope_type,
                    "scope_ref": scope_ref,
                    "event_type_id": wanted[key].event_type_id,
                    "event_id": wanted[key].event_id,
                    "column": column,
                    "value": value,
                    "is_other": is_other,
                }
                for key in missing
                for kind, scope_type, scope_ref, column, value, is_other in (key,)
            ],
        )
        ids, _ = _stored_series(db, scan_id, wanted)
    if moved:
        db.execute(
            update(_series)
            .where(_series.c.id == bindparam("series"))
            .values(event_type_id=bindparam("type_id")),
            [{"series": series, "type_id": type_id} for series, type_id in moved.items()],
        )
    return ids


def _still_planned(db: Session, keys: list[SeriesKey], wanted: dict[SeriesKey, agg.Scope]) -> list[SeriesKey]:
    events = {wanted[k].event_id for k in keys} - {None}
    types = {wanted[k].event_type_id for k in keys} - {None}
    gone_events = events - set(db.scalars(select(Event.id).where(Event.id.in_(events)))) if events else set()
    gone_types = (
        types - set(db.scalars(select(EventType.id).where(EventType.id.in_(types)))) if types else set()
    )
    if not gone_events and not gone_types:
        return keys
    return [
        k for k in keys if wanted[k].event_id not in gone_events and wanted[k].event_type_id not in gone_types
    ]


def _stored_series(
    db: Session, scan_id: uuid.UUID, wanted: dict[SeriesKey, agg.Scope]
) -> tuple[dict[SeriesKey, int], dict[int, uuid.UUID | None]]:
    ids: dict[SeriesKey, int] = {}
    moved: dict[int, uuid.UUID | None] = {}
    for series, kind, scope_type, scope_ref, column, value, is_other, type_id in db.connection().execute(
        _SCAN_SERIES, {"scan": scan_id}
    ):
        key = (kind, scope_type, scope_ref, column, value, is_other)
        ids[key] = series
        scope = wanted.get(key)
        if scope is not None and scope.event_type_id != type_id:
            moved[series] = scope.event_type_id
    return ids, moved


_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_PG_POINT_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("series_len", ">i4"),
        ("series_id", ">i8"),
        ("bucket_len", ">i4"),
        ("bucket", ">i8"),
        ("count_len", ">i4"),
        ("count", ">i8"),
    ]
)
_PG_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_PG_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


class _BulkWriter:
    """Plain bulk inserts on the session's own connection (so inside its transaction).

    Series points are the bulk of a collection's cost, so rows skip SQLAlchemy's per-row parameter
    processing: each distinct bucket is converted with the column type's bind processor once, and
    the rows go to the driver as multi-row INSERTs (SQLite) or one COPY (PostgreSQL).
    """

    # Rows per SQLite INSERT: under the 999 bound parameters of old SQLite builds. A statement of
    # a few hundred rows costs ~30% less per row than executemany's one row per step.
    SQLITE_PARAMETERS = 999

    def __init__(self, db: Session) -> None:
        self.connection = db.connection()
        self.dialect = self.connection.dialect
        self.uuid = _processor(Uuid(), self.dialect)
        self.bucket = _processor(UTCDateTime(), self.dialect)
        self.point_bucket = _processor(CompactUTCDateTime(), self.dialect)  # integers on SQLite

    def insert_points(
        self, series_id: agg.Ints, buckets: list[datetime], bucket_no: agg.Ints, count: agg.Ints
    ) -> None:
        """Series points: `bucket_no` numbers each point's time in `buckets`."""
        if self._copies:
            self._copy_points_binary(series_id, buckets, bucket_no, count)
            return
        as_stored = np.array([self.point_bucket(b) for b in buckets] or [0], dtype=np.int64)
        self.insert(
            SeriesPoint.__tablename__,
            {
                "series_id": series_id.tolist(),
                "bucket": as_stored[bucket_no].tolist(),
                "count": count.tolist(),
            },
        )

    def _copy_points_binary(
        self, series_id: agg.Ints, buckets: list[datetime], bucket_no: agg.Ints, count: agg.Ints
    ) -> None:
        """One binary COPY built by numpy, with no Python work per row (text COPY formats each value
        in Python: ~2.7 µs a row). PostgreSQL's binary COPY: a signature, flags and header-extension
        length, then per row the field count and each field as its byte length and big-endian value
        (bigint; timestamptz as microseconds since 2000-01-01 UTC), then -1."""
        micros = np.array([(b - _PG_EPOCH) // _MICROSECOND for b in buckets] or [0], dtype=np.int64)
        rows = np.empty(len(series_id), dtype=_PG_POINT_ROW)
        rows["fields"] = 3
        rows["series_len"] = rows["bucket_len"] = rows["count_len"] = 8
        rows["series_id"], rows["bucket"], rows["count"] = series_id, micros[bucket_no], count
        payload = _PG_COPY_HEADER + rows.tobytes() + _PG_COPY_TRAILER
        quote = self.dialect.identifier_preparer.quote
        sql = f"COPY {quote(SeriesPoint.__tablename__)} (series_id, bucket, count) FROM STDIN (FORMAT BINARY)"
        with self._raw().cursor() as cursor, cursor.copy(sql) as copy:
            copy.write(payload)

    @property
    def _copies(self) -> bool:
        return self.dialect.name == "postgresql" and self.dialect.driver == "psycopg"

    def _raw(self) -> Any:
        raw = self.connection.connection.driver_connection
        assert raw is not None
        return raw

    def insert(self, table: str, columns: dict[str, list[Any]]) -> None:
        """Insert rows given as one equally long list per column."""
        quote = self.dialect.identifier_preparer.quote
        column_list = ", ".join(quote(name) for name in columns)
        raw = self._raw()
        values = list(columns.values())
        if self._copies:
            copy_sql = f"COPY {quote(table)} ({column_list}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in zip(*values, strict=True):
                    copy.write_row(row)
            return
        assert self.dialect.paramstyle == "qmark", "bulk inserts run on psycopg or sqlite3"
        width, count = len(values), len(values[0])
        flat: list[Any] = [None] * (width * count)
        for position, column in enumerate(values):
            flat[position::width] = column
        per_statement = self.SQLITE_PARAMETERS // width
        row_markers = "(" + ", ".join(["?"] * width) + ")"
        prefix = f"INSERT INTO {quote(table)} ({column_list}) VALUES "  # noqa: S608 (names from the models)
        cursor = raw.cursor()
        try:
            for first in range(0, count, per_statement):
                rows = min(per_statement, count - first)
                cursor.execute(
                    prefix + ", ".join([row_markers] * rows), flat[first * width : (first + rows) * width]
                )
        finally:
            cursor.close()


def _processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any]:
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return lambda value: value
    return lambda value: None if value is None else process(value)


def _touch_last_seen(db: Session, last_seen: dict[uuid.UUID, datetime]) -> None:
    if last_seen:
        db.connection().execute(
            _TOUCH_LAST_SEEN, [{"event": event_id, "seen": seen} for event_id, seen in last_seen.items()]
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
