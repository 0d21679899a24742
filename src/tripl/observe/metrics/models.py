"""Time series written by metric collection: one row per series, one narrow row per point.

A series names what it counts: its scan, its kind (counts, a breakdown value, an app version), its
scope three ways (`scope_type` + `scope_ref`, the API's vocabulary: the scan id for project_total,
the event type id, the event id; and nullable foreign keys, so deleting an event or event type
deletes its series and, by cascade, their points), and for breakdowns and versions the column,
value and whether it is the folded Other row. Its key is unique, so it exists once.

A point is (series id, bucket, count), keyed (series_id, bucket): collecting a bucket again
replaces its point, never doubles it; a trigger deletes a series' points with it (no foreign key,
see `POINTS_CASCADE_SQL`). Points are most of what collection writes, so they carry no
text key and no other index (a SQLite WITHOUT ROWID table: the key is the only b-tree), and SQLite
stores their bucket as integer microseconds (`CompactUTCDateTime`).

`MetricPoint`, `BreakdownPoint` and `AppVersionPoint` map each kind as series joined to points
(the kind in the join condition), so reads filter by scope, column and bucket in one statement.
They are for reads; `storage` writes series and points.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    Enum,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    and_,
    event,
    join,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column
from sqlalchemy.schema import DDL
from sqlalchemy.sql import Join

from tripl.core.db import Base, CompactUTCDateTime

SERIES_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite: an alias of the rowid


class MetricScopeType(enum.StrEnum):
    project_total = "project_total"
    event_type = "event_type"
    event = "event"


class SeriesKind(enum.StrEnum):
    counts = "counts"
    breakdown = "breakdown"
    app_version = "app_version"


class MetricSeries(Base):
    __tablename__ = "metric_series"
    __table_args__ = (
        UniqueConstraint(
            "scan_config_id", "scope_type", "scope_ref", "kind", "column", "value", "is_other",
            name="uq_metric_series_key",
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(SERIES_ID, primary_key=True, autoincrement=True)
    scan_config_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scan_configs.id", ondelete="CASCADE"))
    kind: Mapped[SeriesKind] = mapped_column(Enum(SeriesKind, native_enum=False, length=16))
    scope_type: Mapped[MetricScopeType] = mapped_column(Enum(MetricScopeType, native_enum=False, length=16))
    scope_ref: Mapped[str] = mapped_column(String(64))
    event_type_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("event_types.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    # '' for plain counts; a breakdown's column; unused for versions.
    column: Mapped[str] = mapped_column(String(255), default="")
    # '' for plain counts; a breakdown value or an app version.
    value: Mapped[str] = mapped_column(String(500), default="")
    is_other: Mapped[bool] = mapped_column(default=False)


class SeriesPoint(Base):
    __tablename__ = "metric_series_points"
    __table_args__ = (PrimaryKeyConstraint("series_id", "bucket"), {"sqlite_with_rowid": False})

    series_id: Mapped[int] = mapped_column(SERIES_ID)  # a series' points go with it: see below
    bucket: Mapped[datetime] = mapped_column(CompactUTCDateTime)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


SERIES_TABLE = cast(Table, MetricSeries.__table__)
POINTS_TABLE = cast(Table, SeriesPoint.__table__)

# Points carry no foreign key: PostgreSQL checked it once per point, most of a bulk COPY's time.
# Instead a trigger deletes a deleted series' points (also when an event, type or scan cascades
# the series away), and writers of points lock the series they write to first (FOR KEY SHARE, as
# the key's check did), so a series deleted meanwhile waits for them and then takes their points.
# Migration 0007 creates the same.
POINTS_CASCADE_SQL: dict[str, list[str]] = {
    "sqlite": [
        "CREATE TRIGGER metric_series_delete_points AFTER DELETE ON metric_series"
        " BEGIN DELETE FROM metric_series_points WHERE series_id = OLD.id; END"
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION metric_series_delete_points() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN DELETE FROM metric_series_points WHERE series_id = OLD.id; RETURN NULL; END $$",
        "CREATE TRIGGER metric_series_delete_points AFTER DELETE ON metric_series"
        " FOR EACH ROW EXECUTE FUNCTION metric_series_delete_points()",
    ],
}
for _dialect, _statements in POINTS_CASCADE_SQL.items():
    for _statement in _statements:
        event.listen(SERIES_TABLE, "after_create", DDL(_statement).execute_if(dialect=_dialect))


def _of_kind(kind: SeriesKind) -> Join:
    return join(
        SERIES_TABLE,
        POINTS_TABLE,
        and_(SERIES_TABLE.c.id == POINTS_TABLE.c.series_id, SERIES_TABLE.c.kind == kind),
    )


class _SeriesPoint:
    """The columns every read model has (typing only: they map the join's columns by name)."""

    scan_config_id: Mapped[uuid.UUID]
    scope_type: Mapped[MetricScopeType]
    scope_ref: Mapped[str]
    event_type_id: Mapped[uuid.UUID | None]
    event_id: Mapped[uuid.UUID | None]
    bucket: Mapped[datetime]
    count: Mapped[int]


class MetricPoint(_SeriesPoint, Base):
    """Counts per bucket of one scope (project total, an event type, or an event)."""

    __table__ = _of_kind(SeriesKind.counts)
    series_id = column_property(SERIES_TABLE.c.id, POINTS_TABLE.c.series_id)


class BreakdownPoint(_SeriesPoint, Base):
    """Counts per bucket and value of one breakdown (or distribution-drift) column of a scope.

    With `metric_breakdown_values_limit` the warehouse keeps the top values and folds the rest
    into one `is_other` row.
    """

    __table__ = _of_kind(SeriesKind.breakdown)
    series_id = column_property(SERIES_TABLE.c.id, POINTS_TABLE.c.series_id)
    column: Mapped[str]
    value: Mapped[str]
    is_other: Mapped[bool]


class AppVersionPoint(_SeriesPoint, Base):
    """Counts per bucket and app version; versions older than the kept releases fold into Other."""

    __table__ = _of_kind(SeriesKind.app_version)
    series_id = column_property(SERIES_TABLE.c.id, POINTS_TABLE.c.series_id)
    version: Mapped[str] = column_property(SERIES_TABLE.c.value)
    is_other: Mapped[bool]


class CoveragePoint(Base):
    """Per bucket: every row the collector read vs the rows matched to a plan event."""

    __tablename__ = "metric_coverage_points"
    __table_args__ = (PrimaryKeyConstraint("scan_config_id", "bucket"),)

    scan_config_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scan_configs.id", ondelete="CASCADE"))
    bucket: Mapped[datetime]
    total_count: Mapped[int] = mapped_column(BigInteger, default=0)
    matched_count: Mapped[int] = mapped_column(BigInteger, default=0)
