"""The job runner wired to the real pipelines on a DuckDB warehouse: run, schedule, apply groups."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from tests.observe.scan_job_support import add_job, clear_queue, drain_queue, load_job
from tests.observe.scan_support import make_config, make_warehouse

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.data_sources.models import DataSource
from tripl.observe.metrics import collection
from tripl.observe.metrics.models import CoveragePoint, MetricPoint, MetricSeries
from tripl.observe.metrics.storage import write_chunk
from tripl.observe.scans.jobs import run_job
from tripl.observe.scans.models import ScanConfig, ScanInterval, ScanJob, ScanJobKind, ScanJobStatus
from tripl.observe.scans.scheduling import floor_bucket, schedule_due_scans
from tripl.observe.warehouse.base import WarehouseQueryError
from tripl.plan.events.models import Event

API = "/api/v1/projects/shop/scans"
DDL = "CREATE TABLE ev (kind VARCHAR, screen VARCHAR, ts TIMESTAMP)"


@pytest.fixture(autouse=True)
def _clean_queue(context: TriplContext) -> None:
    clear_queue(context)


def recent_rows() -> list[tuple[Any, ...]]:
    """Events in each of the last five complete hours (naive UTC timestamps, as warehouses store them)."""
    last_complete = floor_bucket(utcnow(), ScanInterval.h1).replace(tzinfo=None)
    rows: list[tuple[Any, ...]] = []
    for hours_back in range(1, 6):
        start = last_complete - timedelta(hours=hours_back)
        rows += [("view", "home", start + timedelta(minutes=m)) for m in range(hours_back)]
        rows.append(("click", "buy", start + timedelta(minutes=30)))
    return rows


def hourly_config(context: TriplContext, project: dict[str, Any], **overrides: Any) -> ScanConfig:
    """A config over `recent_rows()`: types from `kind`, names from `screen`, hourly on `ts`."""
    settings: dict[str, Any] = {
        "event_type_column": "kind",
        "event_name_format": "{screen}",
        "time_column": "ts",
        "interval": ScanInterval.h1,
    }
    source = make_warehouse(context, DDL, recent_rows())
    return make_config(context, project["id"], source, **{**settings, **overrides})


def test_a_manual_run_catalogs_and_collects_then_the_schedule_has_nothing_left(
    editor: TestClient, context: TriplContext, project: dict[str, Any]
) -> None:
    config = hourly_config(context, project)
    job = editor.post(f"{API}/{config.id}/run").json()
    assert drain_queue(context) == ["completed"], load_job(context, job["id"]).error_message

    final = editor.get(f"{API}/{config.id}/jobs/{job['id']}").json()
    summary = final["result_summary"]
    assert summary["mode"] == "catalog" and summary["events_created"] == 2
    with context.db.sessions() as db:
        assert set(db.scalars(select(Event.name))) == {"home", "buy"}
        total = db.scalar(
            select(func.sum(MetricPoint.count)).where(
                MetricPoint.scan_config_id == config.id, MetricPoint.scope_type == "project_total"
            )
        )
    assert total == len(recent_rows())
    assert schedule_due_scans(context) == []  # the run collected up to the last complete bucket


def test_a_metrics_failure_in_a_scheduled_run_is_recorded(
    context: TriplContext, project: dict[str, Any]
) -> None:
    config = hourly_config(context, project, time_column="no_such_column")
    [job_id] = schedule_due_scans(context)
    assert drain_queue(context) == ["failed"]
    row = load_job(context, job_id)
    assert row.status == ScanJobStatus.failed
    assert row.error_message and row.error_message.startswith("Scan failed: ")
    assert "no_such_column" in row.error_message  # the warehouse says what is wrong
    assert config.id == row.scan_config_id


# --- chunks, checkpoints and the warehouse thread ---------------------------------------------------


def replay_setup(context: TriplContext, project: dict[str, Any]) -> tuple[Any, datetime, datetime]:
    """A monitoring config over five hours of events, cataloged, no series stored; and the window."""
    config = hourly_config(context, project, replay_chunk_interval=ScanInterval.h1)
    catalog = add_job(context, config, kind=ScanJobKind.catalog, status=ScanJobStatus.pending)
    assert run_job(context, catalog.id) == ScanJobStatus.completed
    with context.db.transaction() as db:  # what the manual run also collected: the replay starts empty
        db.execute(delete(MetricSeries).where(MetricSeries.scan_config_id == config.id))
        db.execute(delete(CoveragePoint).where(CoveragePoint.scan_config_id == config.id))
    end = floor_bucket(utcnow(), ScanInterval.h1)
    return config, end - timedelta(hours=5), end


def stored_buckets(context: TriplContext, config_id: Any) -> list[datetime]:
    with context.db.sessions() as db:
        return list(
            db.scalars(
                select(MetricPoint.bucket)
                .where(MetricPoint.scan_config_id == config_id, MetricPoint.scope_type == "project_total")
                .order_by(MetricPoint.bucket)
            )
        )


def test_a_chunk_is_stored_with_its_checkpoint_or_not_at_all(
    context: TriplContext, project: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, start, end = replay_setup(context, project)
    job = add_job(
        context, config, kind=ScanJobKind.replay, status=ScanJobStatus.pending, time_from=start, time_to=end
    )
    written: list[datetime] = []

    def write_then_lose_the_job(db: Session, *args: Any) -> None:
        write_chunk(db, *args)
        written.append(args[2])
        if len(written) == 3:  # another worker took the job over while this chunk was being written
            db.execute(update(ScanJob).where(ScanJob.id == job.id).values(attempts=ScanJob.attempts + 1))

    monkeypatch.setattr(collection, "write_chunk", write_then_lose_the_job)
    assert run_job(context, job.id) is None  # no longer this worker's job
    # The third chunk's rows went with its checkpoint: two chunks stored, the checkpoint after them.
    assert stored_buckets(context, config.id) == [start, start + timedelta(hours=1)]
    checkpoint = load_job(context, job.id).checkpoint
    assert checkpoint is not None
    assert checkpoint["metrics"]["next_chunk_from"] == (start + timedelta(hours=2)).isoformat()


def fetching(monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None) -> list[datetime]:
    """Record each chunk the warehouse thread fetches; the `fail_at`-th fetch fails as a query would."""
    fetched: list[datetime] = []
    real = collection._fetch_chunk

    def fetch(warehouse: Any, queries: Any, plan: Any, start: datetime, end: datetime, split: bool) -> Any:
        fetched.append(start)
        if len(fetched) == fail_at:
            raise WarehouseQueryError("query failed: the warehouse went away")
        return real(warehouse, queries, plan, start, end, split)

    monkeypatch.setattr(collection, "_fetch_chunk", fetch)
    return fetched


def test_a_cancel_between_chunks_drops_the_chunks_read_ahead(
    context: TriplContext, project: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, start, end = replay_setup(context, project)
    job = add_job(
        context, config, kind=ScanJobKind.replay, status=ScanJobStatus.pending, time_from=start, time_to=end
    )
    fetched = fetching(monkeypatch)
    written: list[datetime] = []
    read_while_writing_the_first: list[datetime] = []

    def write_then_cancel(db: Session, *args: Any) -> None:
        write_chunk(db, *args)
        written.append(args[2])
        if len(written) == 1:  # a slow write: the reader goes on, but no further than two chunks ahead
            wait_for(lambda: len(fetched) >= 3)
            time.sleep(0.2)
            read_while_writing_the_first.extend(fetched)
        if len(written) == 2:  # a user cancels while the second chunk is written
            wait_for(lambda: len(fetched) >= 4)
            db.execute(update(ScanJob).where(ScanJob.id == job.id).values(cancel_requested=True))

    monkeypatch.setattr(collection, "write_chunk", write_then_cancel)
    assert run_job(context, job.id) == ScanJobStatus.cancelled
    hours = [start + timedelta(hours=h) for h in range(5)]
    assert read_while_writing_the_first == hours[:3]
    assert fetched == hours[:4]  # two chunks were read ahead while the second was written...
    assert stored_buckets(context, config.id) == hours[:2]  # ...and nothing of them was stored
    row = load_job(context, job.id)
    assert row.result_summary is not None and row.result_summary["chunks_done"] == 2
    assert row.checkpoint is not None and row.checkpoint["metrics"]["next_chunk_from"] == hours[2].isoformat()


@pytest.mark.parametrize("ending", [ScanJobStatus.completed, ScanJobStatus.cancelled, ScanJobStatus.failed])
def test_the_warehouse_file_is_released_however_the_run_ends(
    context: TriplContext, project: dict[str, Any], monkeypatch: pytest.MonkeyPatch, ending: ScanJobStatus
) -> None:
    config, start, end = replay_setup(context, project)
    with context.db.sessions() as db:
        source = db.get(DataSource, config.data_source_id)
        assert source is not None
        path = Path(context.settings.data_dir) / "warehouses" / source.database_name
    job = add_job(
        context, config, kind=ScanJobKind.replay, status=ScanJobStatus.pending, time_from=start, time_to=end
    )
    held_while_writing: list[bool] = []

    def write(db: Session, *args: Any) -> None:
        write_chunk(db, *args)
        held_while_writing.append(not can_open_for_writing(path))
        if ending == ScanJobStatus.cancelled and len(held_while_writing) == 2:
            db.execute(update(ScanJob).where(ScanJob.id == job.id).values(cancel_requested=True))

    monkeypatch.setattr(collection, "write_chunk", write)
    if ending == ScanJobStatus.failed:
        fetching(monkeypatch, fail_at=3)
    assert run_job(context, job.id) == ending
    assert held_while_writing[0]  # the reader had it open (read only) while chunks were still to come
    assert can_open_for_writing(path)  # and let it go when the run ended


def can_open_for_writing(path: Path) -> bool:
    """False while this process holds the DuckDB file open read-only (as a collection's reader does)."""
    try:
        duckdb.connect(str(path)).close()
    except duckdb.ConnectionException:
        return False
    return True


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the warehouse reader did not get there in time"
        time.sleep(0.005)


def test_a_failed_query_of_a_chunk_fetched_ahead_fails_the_job_and_keeps_the_chunks_before(
    context: TriplContext, project: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, start, end = replay_setup(context, project)
    job = add_job(
        context, config, kind=ScanJobKind.replay, status=ScanJobStatus.pending, time_from=start, time_to=end
    )
    fetching(monkeypatch, fail_at=3)
    assert run_job(context, job.id) == ScanJobStatus.failed
    row = load_job(context, job.id)
    assert row.error_message == "Scan failed: query failed: the warehouse went away"
    assert stored_buckets(context, config.id) == [start, start + timedelta(hours=1)]
    # A new replay of the window then stores all of it (the two chunks replaced, not doubled).
    monkeypatch.undo()
    retry = add_job(
        context, config, kind=ScanJobKind.replay, status=ScanJobStatus.pending, time_from=start, time_to=end
    )
    assert run_job(context, retry.id) == ScanJobStatus.completed
    assert stored_buckets(context, config.id) == [start + timedelta(hours=h) for h in range(5)]
