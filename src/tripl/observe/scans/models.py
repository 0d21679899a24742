from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tripl.core.db import Base, IdMixin, TimestampMixin


class ScanInterval(enum.StrEnum):
    m15 = "15m"
    h1 = "1h"
    h6 = "6h"
    d1 = "1d"
    w1 = "1w"


class ScanConfig(IdMixin, TimestampMixin, Base):
    """How to read one warehouse query into plan entries (catalog) and time series (metrics)."""

    __tablename__ = "scan_configs"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    data_source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("data_sources.id", ondelete="CASCADE"), index=True
    )
    event_type_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("event_types.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    base_query: Mapped[str] = mapped_column(Text)
    event_type_column: Mapped[str | None] = mapped_column(String(255))
    time_column: Mapped[str | None] = mapped_column(String(255))
    event_name_format: Mapped[str | None] = mapped_column(String(500))
    json_value_paths: Mapped[list[str]] = mapped_column(JSON, default=list)
    event_group_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    metric_breakdown_columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    metric_breakdown_values_limit: Mapped[int | None]
    distribution_drift_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    cardinality_threshold: Mapped[int] = mapped_column(default=100)
    interval: Mapped[ScanInterval | None] = mapped_column(
        Enum(ScanInterval, native_enum=False, length=8, values_callable=lambda e: [m.value for m in e])
    )
    replay_chunk_interval: Mapped[ScanInterval | None] = mapped_column(
        Enum(ScanInterval, native_enum=False, length=8, values_callable=lambda e: [m.value for m in e])
    )
    scan_lookback_hours: Mapped[int | None]
    scan_row_limit: Mapped[int | None]
    metrics_row_limit: Mapped[int | None]
    app_version_column: Mapped[str | None] = mapped_column(String(255))
    app_version_keep_releases: Mapped[int | None]
    # What the last catalog run decided per event-type group (literal vs templated columns), so
    # metric collection rebuilds the same event identity; written by the catalog pipeline.
    catalog_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Scheduling state: consecutive failed scheduled runs and when the next may start (backoff).
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    next_run_not_before: Mapped[datetime | None]


class ScanJobStatus(enum.StrEnum):
    pending = "pending"
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"  # additive to the contract's enum (the scans issue asks for cancel)


class ScanJobKind(enum.StrEnum):
    catalog = "catalog"  # POST /run: discover events/fields/variables (plus metrics when monitoring)
    collect = "collect"  # scheduled metrics collection of newly completed buckets
    replay = "replay"  # metrics back-fill over [time_from, time_to)
    apply_groups = "apply_groups"  # merge existing events by the config's event_group_rules


ACTIVE_JOB_STATUSES = (ScanJobStatus.pending, ScanJobStatus.running)


class ScanJob(IdMixin, TimestampMixin, Base):
    """A unit of background work on one scan config; the queue message only names this row."""

    __tablename__ = "scan_jobs"
    __table_args__ = (
        Index("ix_scan_jobs_config_created", "scan_config_id", "created_at"),
        # At most one active job per config, enforced by the database (races answer 409).
        Index(
            "uq_scan_jobs_one_active",
            "scan_config_id",
            unique=True,
            sqlite_where=text("status IN ('pending', 'running')"),
            postgresql_where=text("status IN ('pending', 'running')"),
        ),
    )

    scan_config_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scan_configs.id", ondelete="CASCADE"))
    kind: Mapped[ScanJobKind] = mapped_column(Enum(ScanJobKind, native_enum=False, length=16))
    trigger: Mapped[str] = mapped_column(String(16), default="manual")  # manual | schedule
    status: Mapped[ScanJobStatus] = mapped_column(
        Enum(ScanJobStatus, native_enum=False, length=16), default=ScanJobStatus.pending, index=True
    )
    time_from: Mapped[datetime | None]
    time_to: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    # Resume point for chunked work (e.g. {"next_chunk_from": iso}); survives a worker crash.
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ScanPreviewJob(IdMixin, TimestampMixin, Base):
    """An ad-hoc run of a base query (columns, sample rows, JSON paths) before a config is saved."""

    __tablename__ = "scan_preview_jobs"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    data_source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_sources.id", ondelete="CASCADE"))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ScanJobStatus] = mapped_column(
        Enum(ScanJobStatus, native_enum=False, length=16), default=ScanJobStatus.pending
    )
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    result_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
