"""Time series written by metric collection, keyed by what they count (no surrogate id).

Every row names its scope three ways: `scope_type` + `scope_ref` (the API's vocabulary: the scan
id for project_total, the event type id, the event id) and nullable foreign keys so deleting an
event or event type deletes its series with it.

The natural key is the primary key, scope first, so a scope's series is one range of it. Each
other index costs a b-tree insert per written row, so only these remain: the event and event-type
keys (their cascading deletes, and reads by event), and (scan, bucket) on metric_points (a chunk's
replacement, the newest bucket per scan). The SQLite tables keep their rowid: WITHOUT ROWID would
make each secondary index entry carry the whole key instead of a rowid, which measured slower.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from tripl.core.db import Base


class MetricScopeType(enum.StrEnum):
    project_total = "project_total"
    event_type = "event_type"
    event = "event"


class ScopedSeries:
    @declared_attr
    def scan_config_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("scan_configs.id", ondelete="CASCADE"))

    @declared_attr
    def scope_type(cls) -> Mapped[MetricScopeType]:
        return mapped_column(Enum(MetricScopeType, native_enum=False, length=16))

    @declared_attr
    def scope_ref(cls) -> Mapped[str]:
        return mapped_column(String(64))

    @declared_attr
    def event_type_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(ForeignKey("event_types.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def event_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)

    bucket: Mapped[datetime]
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class MetricPoint(ScopedSeries, Base):
    """Rows per bucket for one scope (project total, an event type, or an event)."""

    __tablename__ = "metric_points"
    __table_args__ = (
        PrimaryKeyConstraint("scan_config_id", "scope_type", "scope_ref", "bucket"),
        Index("ix_metric_points_scan_bucket", "scan_config_id", "bucket"),
    )


class BreakdownPoint(ScopedSeries, Base):
    """Rows per bucket and value of one breakdown (or distribution-drift) column of a scope.

    With `metric_breakdown_values_limit` the warehouse keeps the top values and folds the rest
    into one `is_other` row.
    """

    __tablename__ = "metric_breakdown_points"
    # The column before the bucket: reads take one column of a scope over a window.
    __table_args__ = (
        PrimaryKeyConstraint(
            "scan_config_id", "scope_type", "scope_ref", "column", "bucket", "value", "is_other"
        ),
    )

    column: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(500))
    is_other: Mapped[bool] = mapped_column(default=False)


class AppVersionPoint(ScopedSeries, Base):
    """Rows per bucket and app version; versions older than the kept releases fold into Other."""

    __tablename__ = "metric_app_version_points"
    __table_args__ = (
        PrimaryKeyConstraint("scan_config_id", "scope_type", "scope_ref", "bucket", "version", "is_other"),
    )

    version: Mapped[str] = mapped_column(String(255))
    is_other: Mapped[bool] = mapped_column(default=False)


class CoveragePoint(Base):
    """Per bucket: every row the collector read vs the rows matched to a plan event."""

    __tablename__ = "metric_coverage_points"
    __table_args__ = (PrimaryKeyConstraint("scan_config_id", "bucket"),)

    scan_config_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scan_configs.id", ondelete="CASCADE"))
    bucket: Mapped[datetime]
    total_count: Mapped[int] = mapped_column(BigInteger, default=0)
    matched_count: Mapped[int] = mapped_column(BigInteger, default=0)
