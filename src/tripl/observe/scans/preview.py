"""The preview job: run a base query once and show its columns, sample rows and JSON key paths.

The API stores a pending ScanPreviewJob and queues `scans.preview`; this job runs the query in
the warehouse (bounded by the request's limit) and writes `result_summary`:
    {columns: [{name, type_name, is_nullable}], rows: [{column: JSON-safe value}],
     json_columns: [{column, paths: [{full_path, path, sample_values}]}]}
`json_columns` is filled only when the request asked for `include_json_paths`.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import logging
import math
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.core.jobs import job, periodic_job
from tripl.observe.data_sources import service as data_sources
from tripl.observe.data_sources.models import DataSource
from tripl.observe.scans.models import ACTIVE_JOB_STATUSES, ScanJobStatus, ScanPreviewJob
from tripl.observe.warehouse.base import ColumnInfo, LogicalType, WarehouseError
from tripl.observe.warehouse.sql import InvalidQuery, describe_sql, preview_sql

log = logging.getLogger(__name__)

MAX_JSON_PATHS = 1000
MAX_SAMPLES_PER_PATH = 3
MAX_SAMPLE_TEXT = 200
MAX_LOOKBACK_HOURS = 24 * 366 * 100  # beyond this a lookback means "everything"
# A preview still pending/running after this lost its queue message or its worker.
STALE_AFTER = timedelta(minutes=30)
KEEP_FOR = timedelta(days=7)
STALE_MESSAGE = "Preview did not finish (the worker stopped or the queue lost it); run the preview again"


# ---------------------------------------------------------------------------------------------
# Pure: values and JSON paths


def json_safe(value: Any) -> Any:
    """A value as JSON shows it: datetimes ISO 8601, decimals as numbers, bytes as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return str(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(raw).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    return str(value)


def as_json_document(value: Any) -> Any:
    """A JSON column's value as Python data: engines hand JSON back as text or as objects."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _leaf_paths(document: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted path, value) of every leaf below the objects of a document; arrays are leaves."""
    if not isinstance(document, dict):
        return [(prefix, document)] if prefix else []
    found: list[tuple[str, Any]] = []
    for key, value in document.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            found.extend(_leaf_paths(value, path))
        else:
            found.append((path, value))
    return found


def _sample(value: Any) -> Any:
    safe = json_safe(value)
    if isinstance(safe, dict | list):
        safe = json.dumps(safe, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(safe, str) and len(safe) > MAX_SAMPLE_TEXT:
        safe = safe[: MAX_SAMPLE_TEXT - 3] + "..."
    return safe


def discover_json_paths(
    columns: Sequence[str], rows: Sequence[dict[str, Any]], *, max_paths: int = MAX_JSON_PATHS
) -> list[dict[str, Any]]:
    """Key paths found in the JSON columns of sampled rows, first seen first, with a few distinct
    sample values each; at most `max_paths` paths over all columns."""
    budget = max_paths
    result: list[dict[str, Any]] = []
    for column in columns:
        paths: dict[str, list[Any]] = {}
        for row in rows:
            for path, value in _leaf_paths(as_json_document(row.get(column))):
                samples = paths.get(path)
                if samples is None:
                    if len(paths) >= budget:
                        continue
                    samples = paths[path] = []
                sample = _sample(value)
                if sample is not None and len(samples) < MAX_SAMPLES_PER_PATH and sample not in samples:
                    samples.append(sample)
        budget -= len(paths)
        result.append(
            {
                "column": column,
                "paths": [
                    {"full_path": f"{column}.{path}", "path": path, "sample_values": samples}
                    for path, samples in paths.items()
                ],
            }
        )
    return result


def build_summary(
    columns: Sequence[ColumnInfo],
    row_names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    include_json_paths: bool,
) -> dict[str, Any]:
    """The preview result: `columns` describe the query, `rows` are tuples named by `row_names`."""
    records = [dict(zip(row_names, row, strict=False)) for row in rows]
    json_names = [c.name for c in columns if c.logical == LogicalType.json]
    summary: dict[str, Any] = {
        "columns": [{"name": c.name, "type_name": c.type_name, "is_nullable": c.nullable} for c in columns],
        "rows": [
            {k: json_safe(as_json_document(v) if k in json_names else v) for k, v in record.items()}
            for record in records
        ],
        "json_columns": discover_json_paths(json_names, records) if include_json_paths else [],
    }
    return summary


# ---------------------------------------------------------------------------------------------
# The job


def _finish(ctx: TriplContext, job_id: uuid.UUID, **outcome: Any) -> None:
    with ctx.db.transaction() as db:
        row = db.get(ScanPreviewJob, job_id)
        if row is None:  # deleted with its project or data source meanwhile
            return
        for key, value in outcome.items():
            setattr(row, key, value)
        row.completed_at = utcnow()


@job("scans.preview")
def run_preview(ctx: TriplContext, *, job_id: str) -> str | None:
    """Run one preview job; returns its final status (None when there was nothing to do)."""
    key = uuid.UUID(job_id)
    with ctx.db.transaction() as db:
        row = db.get(ScanPreviewJob, key)
        # A running job is taken again: a worker died during a read-only query; re-running is safe.
        if row is None or row.status not in ACTIVE_JOB_STATUSES:
            return None
        data_source = db.get(DataSource, row.data_source_id)
        if data_source is None:
            return None
        row.status = ScanJobStatus.running
        row.started_at = utcnow()
        request = dict(row.request)
    since = None
    if request.get("time_column") and request.get("scan_lookback_hours"):
        since = utcnow() - timedelta(hours=min(int(request["scan_lookback_hours"]), MAX_LOOKBACK_HOURS))
    limit = int(request.get("limit") or 10)
    try:
        with data_sources.open_for(ctx, data_source) as warehouse:
            columns = warehouse.describe(describe_sql(request["base_query"], warehouse.dialect))
            sql = preview_sql(
                request["base_query"],
                warehouse.dialect,
                limit=limit,
                time_column=request.get("time_column") if since else None,
                since=since,
            )
            result = warehouse.query(sql, max_rows=limit)
        summary = build_summary(
            columns,
            [c.name for c in result.columns] or [c.name for c in columns],
            result.rows,
            include_json_paths=bool(request.get("include_json_paths")),
        )
    except (WarehouseError, InvalidQuery, ValueError) as exc:  # messages written for users
        _finish(ctx, key, status=ScanJobStatus.failed, error_message=f"Preview failed: {exc}")
        return ScanJobStatus.failed.value
    except Exception:
        log.exception("preview job %s failed", job_id)
        _finish(
            ctx, key, status=ScanJobStatus.failed, error_message="Preview failed due to an internal error"
        )
        return ScanJobStatus.failed.value
    _finish(ctx, key, status=ScanJobStatus.completed, result_summary=summary, error_message=None)
    return ScanJobStatus.completed.value


def sweep(ctx: TriplContext, now: datetime | None = None) -> tuple[int, int]:
    """Fail previews that can no longer finish and delete old ones: (failed, deleted)."""
    now = now or utcnow()
    with ctx.db.transaction() as db:
        failed = _rowcount(
            db.execute(
                update(ScanPreviewJob)
                .where(
                    ScanPreviewJob.status.in_(ACTIVE_JOB_STATUSES),
                    ScanPreviewJob.created_at < now - STALE_AFTER,
                )
                .values(status=ScanJobStatus.failed, error_message=STALE_MESSAGE, completed_at=now)
            )
        )
        deleted = _rowcount(
            db.execute(delete(ScanPreviewJob).where(ScanPreviewJob.created_at < now - KEEP_FOR))
        )
    return failed, deleted


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


@periodic_job("scans.preview_sweep", minute="*/10")
def sweep_previews(ctx: TriplContext) -> tuple[int, int]:
    return sweep(ctx)
