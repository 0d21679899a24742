"""Scan configs and stored metric rows written straight through the ORM for the metric tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.data_sources.models import DataSource
from tripl.observe.metrics.models import AppVersionPoint, BreakdownPoint, MetricPoint, MetricScopeType
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


def add_points(
    ctx: TriplContext, scan: ScanConfig, scope: str, ref: Any, counts: dict[datetime, int]
) -> None:
    with ctx.db.transaction() as db:
        for bucket, count in counts.items():
            db.add(
                MetricPoint(scan_config_id=scan.id, bucket=bucket, count=count, **scope_of(scan, scope, ref))
            )


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
            db.add(
                BreakdownPoint(
                    scan_config_id=scan.id,
                    bucket=bucket,
                    column=column,
                    value=value,
                    is_other=is_other,
                    count=count,
                    **scope_of(scan, scope, ref),
                )
            )


def add_versions(
    ctx: TriplContext, scan: ScanConfig, scope: str, ref: Any, rows: list[tuple[datetime, str, bool, int]]
) -> None:
    with ctx.db.transaction() as db:
        for bucket, version, is_other, count in rows:
            db.add(
                AppVersionPoint(
                    scan_config_id=scan.id,
                    bucket=bucket,
                    version=version,
                    is_other=is_other,
                    count=count,
                    **scope_of(scan, scope, ref),
                )
            )
