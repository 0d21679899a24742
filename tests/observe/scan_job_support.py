"""Scan configs, job rows, stand-in pipelines and a synchronous queue drain for the scan job tests."""

from __future__ import annotations

import importlib
import sys
import types
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from tripl.core.context import TriplContext
from tripl.observe.data_sources.models import DataSource
from tripl.observe.scans import jobs
from tripl.observe.scans.models import ScanConfig, ScanInterval, ScanJob, ScanJobStatus
from tripl.observe.warehouse.base import DBType


def make_config(ctx: TriplContext, project_id: Any, **attrs: Any) -> ScanConfig:
    """A scan config on its own data source: monitoring (1h, time column `ts`) unless told otherwise."""
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
            database_name="warehouse.duckdb",
        )
        db.add(source)
        db.flush()
        config = ScanConfig(project_id=uuid.UUID(str(project_id)), data_source_id=source.id, **values)
        db.add(config)
    return config


def install_pipeline(
    monkeypatch: pytest.MonkeyPatch, where: tuple[str, str], fn: Callable[..., dict[str, Any]]
) -> None:
    """Make the runner call `fn` for a pipeline (whose real module may not exist yet)."""
    module_name, attr = where
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        module = types.ModuleType(module_name)
        monkeypatch.setitem(sys.modules, module_name, module)
    monkeypatch.setattr(module, attr, fn, raising=False)


def refuse_pipeline(where: tuple[str, str]) -> Callable[..., dict[str, Any]]:
    def refuse(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise AssertionError(f"{where[1]} must not run here")

    return refuse


def install_all_refusing(monkeypatch: pytest.MonkeyPatch) -> None:
    for where in (jobs.CATALOG_PIPELINE, jobs.METRICS_PIPELINE, jobs.GROUPS_PIPELINE):
        install_pipeline(monkeypatch, where, refuse_pipeline(where))


def clear_queue(ctx: TriplContext) -> None:
    ctx.queue.huey.storage.flush_queue()


def queued_run_ids(ctx: TriplContext) -> list[str]:
    return [str(task.kwargs["job_id"]) for task in ctx.queue.huey.pending() if task.name == "scans.run_job"]


def drain_queue(ctx: TriplContext) -> list[str | None]:
    """Be a worker: run every queued message here, in order, until the queue is empty.

    Returns the outcome of each scan job run (None when the runner skipped the job)."""
    outcomes: list[str | None] = []
    run_job = jobs.run_job

    def recording(*args: Any, **kwargs: Any) -> ScanJobStatus | None:
        status = run_job(*args, **kwargs)
        outcomes.append(status.value if status else None)
        return status

    jobs.run_job = recording
    try:
        while (task := ctx.queue.huey.dequeue()) is not None:
            task.execute()
    finally:
        jobs.run_job = run_job
    return outcomes


def load_job(ctx: TriplContext, job_id: Any) -> ScanJob:
    with ctx.db.sessions() as db:
        job = db.scalars(select(ScanJob).where(ScanJob.id == uuid.UUID(str(job_id)))).one()
        db.expunge(job)
    return job


def load_config(ctx: TriplContext, config_id: Any) -> ScanConfig:
    with ctx.db.sessions() as db:
        config = db.scalars(select(ScanConfig).where(ScanConfig.id == uuid.UUID(str(config_id)))).one()
        db.expunge(config)
    return config


def set_job(ctx: TriplContext, job_id: Any, **values: Any) -> None:
    with ctx.db.transaction() as db:
        db.execute(update(ScanJob).where(ScanJob.id == uuid.UUID(str(job_id))).values(**values))


def add_job(ctx: TriplContext, config: ScanConfig, **values: Any) -> ScanJob:
    with ctx.db.transaction() as db:
        job = ScanJob(scan_config_id=config.id, **values)
        db.add(job)
    return job
