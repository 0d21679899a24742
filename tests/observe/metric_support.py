"""Scan configs and stored metric rows written straight through the ORM for the metric tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.data_sources.models import DataSource
from tripl.observe.metrics.models import MetricScopeType, MetricSeries, SeriesKind, SeriesPoint
from tripl.observe.scans.models import ScanConfig, ScanInterval
from tripl.observe.warehouse.base import DBType


def hours_ago(hours: int) -> datetime:
    """A bucket start on the hourly grid, `hours` before the current hour."""
    now = utcnow()
    return datetime(now.year, now.month, now.day, now.hour, tzinfo=UTC) - timedelta(hours=hours)


def make_scan(
    ctx: TriplContext,
    project_id: uuid.UUID | str,
    *,
    database: str = "warehouse.duckdb",
    created_at: datetime | None = None,
    **attrs: Any,
) -> ScanConfig:
    """A duckdb-backed scan config (own data source) with an hourly interval unless told otherwise."""
    values: dict[str, Any] = {
        "name": f"scan-{uuid.uuid4().hex[:6]}",
        "base_query": "SELECT * FROM events",
        "time_column": "ts",
        "interval": ScanInterval.h1,
        **attrs,
    }
    with ctx.db.transaction() as db:
        source = DataSource(
            name=f"source-{uuid.uuid4().hex[:8]}",
            db_type=DBType.duckdb,
            host="",
            port=0,
            database_name=database,
        )
        db.add(source)
        db.flush()
        scan = ScanConfig(project_id=uuid.UUID(str(project_id)), data_source_id=source.id, **values)
        if created_at is not None:
            scan.created_at = created_at
        db.add(scan)
    return scan


def scope_of(scan: ScanConfig, scope: str, ref: Any = None, event_type_id: Any = None) -> dict[str, Any]:
    scope_type = MetricScopeType(scope)
    if scope_type == MetricScopeType.project_total:
        return {"scope_type": scope_type, "scope_ref": str(scan.id)}
    columns: dict[str, Any] = {"scope_type": scope_type, "scope_ref": str(ref)}
    if scope_type == MetricScopeType.event:
        columns["event_id"] = uuid.UUID(str(ref))
        columns["event_type_id"] = event_type_id
    else:
        columns["event_type_id"] = uuid.UUID(str(ref))
    return columns


def put_points(
    db: Session,
    scan_id: uuid.UUID,
    scope: dict[str, Any],
    counts: dict[datetime, int],
    *,
    kind: SeriesKind = SeriesKind.counts,
    column: str = "",
    value: str = "",
    is_other: bool = False,
) -> int:
    """Points of one series (`scope`: the `scope_of` columns), creating the series if needed."""
    key = {"scan_config_id": scan_id, "kind": kind, "column": column, "value": value, "is_other": is_other}
    series_id = db.scalar(
        select(MetricSeries.id).filter_by(**key, scope_type=scope["scope_type"], scope_ref=scope["scope_ref"])
    )
    if series_id is None:
        series = MetricSeries(**key, **scope)
        db.add(series)
        db.flush()
        series_id = series.id
    db.add_all(SeriesPoint(series_id=series_id, bucket=b, count=c) for b, c in counts.items())
    db.flush()
    return series_id


def add_points(
    ctx: TriplContext, scan: ScanConfig, scope: str, ref: Any, counts: dict[datetime, int]
) -> None:
    with ctx.db.transaction() as db:
        put_points(db, scan.id, scope_of(scan, scope, ref), counts)


def add_breakdowns(
    ctx: TriplContext,
    scan: ScanConfig,
    scope: str,
    ref: Any,
    column: str,
    rows: list[tuple[datetime, str, bool, int]],
) -> None:
    with ctx.db.transaction() as db:
        for bucket, value, is_other, count in rows:
            put_points(
                db, scan.id, scope_of(scan, scope, ref), {bucket: count},
                kind=SeriesKind.breakdown, column=column, value=value, is_other=is_other,
            )  # fmt: skip


def add_versions(
    ctx: TriplContext, scan: ScanConfig, scope: str, ref: Any, rows: list[tuple[datetime, str, bool, int]]
) -> None:
    with ctx.db.transaction() as db:
        for bucket, version, is_other, count in rows:
            put_points(
                db, scan.id, scope_of(scan, scope, ref), {bucket: count},
                kind=SeriesKind.app_version, value=version, is_other=is_other,
            )  # fmt: skip
