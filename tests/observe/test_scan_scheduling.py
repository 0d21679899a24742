"""Scheduled metric collection: the bucket grid, windows, due configs, once per slot, backoff."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.observe.scan_job_support import (
    add_job,
    clear_queue,
    drain_queue,
    install_all_refusing,
    install_pipeline,
    load_config,
    make_config,
    queued_run_ids,
)

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.metrics.models import CoveragePoint
from tripl.observe.scans import jobs
from tripl.observe.scans.models import ScanConfig, ScanInterval, ScanJob, ScanJobKind, ScanJobStatus
from tripl.observe.scans.runtime import JobControl, ScanFailed
from tripl.observe.scans.scheduling import (
    NOT_SCHEDULABLE_MESSAGE,
    backoff_delay,
    ceil_bucket,
    collection_window,
    floor_bucket,
    schedule_due_scans,
)

H = timedelta(hours=1)
# A fixed "now" 25 minutes into an hour, far from day/week boundaries.
NOW = datetime(2026, 3, 4, 10, 25, tzinfo=UTC)
LAST_COMPLETE = datetime(2026, 3, 4, 10, tzinfo=UTC)


# --- pure parts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "moment", "start"),
    [
        ("15m", datetime(2026, 3, 4, 10, 44, 59, tzinfo=UTC), datetime(2026, 3, 4, 10, 30, tzinfo=UTC)),
        ("1h", datetime(2026, 3, 4, 10, 0, tzinfo=UTC), datetime(2026, 3, 4, 10, 0, tzinfo=UTC)),
        ("6h", datetime(2026, 3, 4, 17, 59, tzinfo=UTC), datetime(2026, 3, 4, 12, 0, tzinfo=UTC)),
        ("1d", datetime(2026, 3, 4, 23, 59, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)),
        # 2026-03-04 is a Wednesday; weeks start on Monday 2026-03-02
        ("1w", datetime(2026, 3, 4, 10, 0, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)),
        ("1w", datetime(2026, 3, 1, 23, 59, tzinfo=UTC), datetime(2026, 2, 23, tzinfo=UTC)),
    ],
)
def test_buckets_floor_to_the_utc_grid(interval: str, moment: datetime, start: datetime) -> None:
    assert floor_bucket(moment, interval) == start
    # another timezone names the same instant
    assert floor_bucket(moment.astimezone(timezone(timedelta(hours=5))), interval) == start


def test_ceil_keeps_bucket_starts() -> None:
    assert ceil_bucket(LAST_COMPLETE, "1h") == LAST_COMPLETE
    assert ceil_bucket(LAST_COMPLETE + timedelta(seconds=1), "1h") == LAST_COMPLETE + H


def test_collection_windows() -> None:
    # first run: the last 30 completed buckets
    assert collection_window("1h", NOW, None) == (LAST_COMPLETE - 30 * H, LAST_COMPLETE)
    # later: from the last collected bucket (one bucket overlap) to the last completed bucket
    assert collection_window("1h", NOW, LAST_COMPLETE - 3 * H) == (LAST_COMPLETE - 4 * H, LAST_COMPLETE)


@pytest.mark.parametrize(
    ("interval", "failures", "delay"),
    [
        ("1h", 1, None),
        ("1h", 2, None),
        ("1h", 3, H),
        ("1h", 4, 2 * H),
        ("1h", 6, 8 * H),
        ("1h", 7, 8 * H),  # capped at 8 intervals
        ("15m", 8, 2 * H),  # 15m * 32 = 8h, capped at 8 intervals = 2h
        ("6h", 5, 24 * H),  # 24h, capped at min(48h, 24h)
        ("6h", 9, 24 * H),
        ("1d", 5, 24 * H),  # 4 days, capped at min(8 days, 24h)
        ("1w", 3, 7 * 24 * H),  # never below one interval, even above the 24h cap
        ("1w", 40, 7 * 24 * H),
    ],
)
def test_failure_backoff(interval: str, failures: int, delay: timedelta | None) -> None:
    assert backoff_delay(failures, interval) == delay


# --- the scheduler ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clean_queue(context: TriplContext, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_queue(context)
    install_all_refusing(monkeypatch)


def jobs_of(ctx: TriplContext, config: ScanConfig) -> list[ScanJob]:
    with ctx.db.sessions() as db:
        rows = list(
            db.scalars(
                select(ScanJob).where(ScanJob.scan_config_id == config.id).order_by(ScanJob.created_at)
            )
        )
        db.expunge_all()
    return rows


def add_bucket(ctx: TriplContext, config: ScanConfig, bucket: datetime) -> None:
    with ctx.db.transaction() as db:
        db.add(CoveragePoint(scan_config_id=config.id, bucket=bucket, total_count=1, matched_count=1))


def test_due_monitoring_configs_get_one_collect_job_each(
    context: TriplContext, project: dict[str, Any]
) -> None:
    pid = project["id"]
    first_run = make_config(context, pid)
    behind = make_config(context, pid)
    add_bucket(context, behind, LAST_COMPLETE - 4 * H)  # collected up to -3h
    caught_up = make_config(context, pid)
    add_bucket(context, caught_up, LAST_COMPLETE - H)  # the last complete bucket is stored
    window_done = make_config(context, pid)
    add_job(
        context,
        window_done,
        kind=ScanJobKind.collect,
        status=ScanJobStatus.completed,
        time_from=LAST_COMPLETE - 2 * H,
        time_to=LAST_COMPLETE,  # a window with no rows still counts
    )
    catalog_only = make_config(context, pid, time_column=None, interval=None)
    busy = make_config(context, pid)
    running = add_job(context, busy, kind=ScanJobKind.catalog, status=ScanJobStatus.running)

    created = schedule_due_scans(context, now=NOW)

    assert len(created) == 2
    assert [(j.kind, j.trigger, j.status, j.time_from, j.time_to) for j in jobs_of(context, first_run)] == [
        (ScanJobKind.collect, "schedule", ScanJobStatus.pending, LAST_COMPLETE - 30 * H, LAST_COMPLETE)
    ]
    assert [(j.time_from, j.time_to) for j in jobs_of(context, behind)] == [
        (LAST_COMPLETE - 4 * H, LAST_COMPLETE)
    ]
    assert jobs_of(context, caught_up) == []
    assert len(jobs_of(context, window_done)) == 1
    assert jobs_of(context, catalog_only) == []
    assert [j.id for j in jobs_of(context, busy)] == [running.id]
    assert sorted(queued_run_ids(context)) == sorted(str(i) for i in created)


def test_a_scheduled_job_runs_and_the_next_tick_finds_nothing_due(
    monkeypatch: pytest.MonkeyPatch, context: TriplContext, project: dict[str, Any]
) -> None:
    make_config(context, project["id"])
    phases: list[str] = []
    install_pipeline(monkeypatch, jobs.CATALOG_PIPELINE, lambda *a, **k: phases.append("catalog") or {})

    def collect(ctx: TriplContext, cid: uuid.UUID, control: JobControl, *, replay: bool) -> dict[str, Any]:
        phases.append(f"metrics replay={replay}")
        return {"metric_points": 0}

    install_pipeline(monkeypatch, jobs.METRICS_PIPELINE, collect)
    now = utcnow()
    assert len(schedule_due_scans(context, now=now)) == 1
    assert drain_queue(context) == ["completed"]
    assert phases == ["catalog", "metrics replay=False"]
    assert schedule_due_scans(context, now=now) == []


def test_the_schedule_runs_once_per_slot_and_never_doubles_a_job(
    context: TriplContext, project: dict[str, Any]
) -> None:
    config = make_config(context, project["id"])
    # two workers' schedulers firing the same minute: the first claims the slot
    periodic = context.queue._tasks["scans.schedule_due"]
    for _ in range(3):  # retry if the two calls straddled a minute boundary (two slots)
        slot = context.queue.huey._get_timestamp().strftime("%H%M")
        first, second = periodic.call_local(), periodic.call_local()
        if context.queue.huey._get_timestamp().strftime("%H%M") == slot:
            break
    assert first == 1 and second is None
    # and even a second run of the scheduler itself finds the active job and adds nothing
    assert schedule_due_scans(context) == []
    assert len(jobs_of(context, config)) == 1
    assert len(queued_run_ids(context)) == 1


def test_backoff_after_three_failed_scheduled_runs_and_reset_on_success(
    monkeypatch: pytest.MonkeyPatch, context: TriplContext, project: dict[str, Any]
) -> None:
    config = make_config(context, project["id"])
    install_pipeline(monkeypatch, jobs.CATALOG_PIPELINE, lambda *a, **k: {})
    failing = True

    def collect(ctx: TriplContext, cid: uuid.UUID, control: JobControl, *, replay: bool) -> dict[str, Any]:
        if failing:
            raise ScanFailed("Metrics query reached metrics_row_limit")
        return {}

    install_pipeline(monkeypatch, jobs.METRICS_PIPELINE, collect)
    for failures in (1, 2):
        assert len(schedule_due_scans(context)) == 1
        assert drain_queue(context) == ["failed"]
        assert load_config(context, config.id).consecutive_failures == failures
        assert load_config(context, config.id).next_run_not_before is None  # retried on the next tick

    before = utcnow()
    assert len(schedule_due_scans(context)) == 1
    assert drain_queue(context) == ["failed"]
    after = utcnow()
    state = load_config(context, config.id)
    assert state.consecutive_failures == 3
    assert state.next_run_not_before is not None
    assert before + H <= state.next_run_not_before <= after + H

    assert schedule_due_scans(context) == []  # waiting out the backoff
    assert schedule_due_scans(context, now=state.next_run_not_before - timedelta(seconds=1)) == []
    failing = False
    assert len(schedule_due_scans(context, now=state.next_run_not_before + timedelta(seconds=1))) == 1
    assert drain_queue(context) == ["completed"]
    state = load_config(context, config.id)
    assert state.consecutive_failures == 0 and state.next_run_not_before is None


def test_manual_failures_do_not_count_towards_backoff(
    monkeypatch: pytest.MonkeyPatch, context: TriplContext, project: dict[str, Any]
) -> None:
    config = make_config(context, project["id"], consecutive_failures=2)

    def catalog(*args: Any) -> dict[str, Any]:
        raise ScanFailed("no")

    install_pipeline(monkeypatch, jobs.CATALOG_PIPELINE, catalog)
    job = add_job(context, config, kind=ScanJobKind.catalog, status=ScanJobStatus.pending)
    assert jobs.run_job(context, job.id) == ScanJobStatus.failed
    assert load_config(context, config.id).consecutive_failures == 2


def test_an_interval_without_a_time_column_is_reported_once_per_saved_version(
    context: TriplContext, project: dict[str, Any]
) -> None:
    broken = make_config(context, project["id"], time_column=None, interval=ScanInterval.h1)
    blank = make_config(context, project["id"], time_column="", interval=ScanInterval.d1)

    for _ in range(3):  # minute after minute
        assert schedule_due_scans(context) == []
    for config in (broken, blank):
        [failed] = jobs_of(context, config)
        assert failed.status == ScanJobStatus.failed and failed.error_message == NOT_SCHEDULABLE_MESSAGE
        assert failed.trigger == "schedule" and failed.completed_at is not None
    assert queued_run_ids(context) == []

    # Someone edits the config and it is still not schedulable: one new notice for the new version.
    with context.db.transaction() as db:
        db.execute(update(ScanConfig).where(ScanConfig.id == broken.id).values(name="renamed"))
    schedule_due_scans(context)
    schedule_due_scans(context)
    assert len(jobs_of(context, broken)) == 2
    assert len(jobs_of(context, blank)) == 1
