"""When metric collection runs: the bucket grid, collection windows, failure backoff, the scheduler.

A config is *monitoring* when it has both `time_column` and `interval`. Every minute the
scheduler looks for monitoring configs with a completed bucket that is not collected yet and
queues one `collect` job each. "Collected up to" (progress) is the later of the end of the newest
stored metric bucket and the `time_to` of the newest completed collect/replay/catalog job, so a
window that legitimately had no rows still counts as done.

Configs with an `interval` but no `time_column` (only possible in rows saved before that was
refused at save) can never collect. Rather than skip them silently, the scheduler writes one
failed job saying why. "Once" means once per saved version of the config: a new failed job is
written only when none exists since the config's `updated_at` (scheduler bookkeeping never
touches `updated_at`, so editing the config is what re-arms the notice).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Result, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.core.jobs import periodic_job
from tripl.observe.metrics.models import CoveragePoint
from tripl.observe.scans.models import (
    ACTIVE_JOB_STATUSES,
    ScanConfig,
    ScanInterval,
    ScanJob,
    ScanJobKind,
    ScanJobStatus,
)
from tripl.observe.warehouse import buckets

log = logging.getLogger(__name__)

INTERVAL_LENGTH = {
    ScanInterval.m15: timedelta(minutes=15),
    ScanInterval.h1: timedelta(hours=1),
    ScanInterval.h6: timedelta(hours=6),
    ScanInterval.d1: timedelta(days=1),
    ScanInterval.w1: timedelta(weeks=1),
}

FIRST_RUN_BUCKETS = 30
FAILURES_BEFORE_BACKOFF = 3
BACKOFF_CAP = timedelta(hours=24)
BACKOFF_CAP_INTERVALS = 8

NOT_SCHEDULABLE_MESSAGE = "not schedulable: interval is set but time_column is empty"
SCHEDULE_TRIGGER = "schedule"
RUN_JOB = "scans.run_job"
# Jobs whose completed window counts as collected metrics.
COLLECTING_KINDS = (ScanJobKind.catalog, ScanJobKind.collect, ScanJobKind.replay)


def interval_length(interval: ScanInterval | str) -> timedelta:
    return INTERVAL_LENGTH[ScanInterval(interval)]


def floor_bucket(moment: datetime, interval: ScanInterval | str) -> datetime:
    """Start of the grid bucket holding `moment` (the warehouse SQL uses the same grid)."""
    return buckets.floor_bucket(moment, ScanInterval(interval).value)


def ceil_bucket(moment: datetime, interval: ScanInterval | str) -> datetime:
    start = floor_bucket(moment, interval)
    return start if start == moment else start + interval_length(interval)


def is_monitoring(config: ScanConfig) -> bool:
    return bool(config.time_column) and config.interval is not None


def collection_window(
    interval: ScanInterval | str, now: datetime, collected_until: datetime | None
) -> tuple[datetime, datetime]:
    """[from, to) for the next collection: up to the last completed bucket, overlapping one bucket.

    First run (nothing collected): the last FIRST_RUN_BUCKETS buckets.
    """
    step = interval_length(interval)
    time_to = floor_bucket(now, interval)
    if collected_until is None:
        return time_to - FIRST_RUN_BUCKETS * step, time_to
    time_from = min(floor_bucket(collected_until, interval), time_to) - step
    return time_from, time_to


def backoff_delay(consecutive_failures: int, interval: ScanInterval | str) -> timedelta | None:
    """How long to wait before the next scheduled run after `consecutive_failures` failures.

    None before the threshold; then interval * 2^(n-3), capped at min(8 intervals, 24 h) but never
    below one interval (so weekly configs wait a week).
    """
    if consecutive_failures < FAILURES_BEFORE_BACKOFF:
        return None
    step = interval_length(interval)
    exponent = min(consecutive_failures - FAILURES_BEFORE_BACKOFF, 16)  # 2^16 intervals is past any cap
    cap = min(BACKOFF_CAP_INTERVALS * step, BACKOFF_CAP)
    return max(step, min(step * 2**exponent, cap))


def record_scheduled_outcome(
    db: Session, config_id: uuid.UUID, *, succeeded: bool, finished_at: datetime
) -> None:
    """Backoff bookkeeping after a job ends; in the caller's transaction, leaving `updated_at` alone."""
    values: dict[str, object]
    if succeeded:
        values = {"consecutive_failures": 0, "next_run_not_before": None}
    else:
        row = db.execute(
            select(ScanConfig.consecutive_failures, ScanConfig.interval).where(ScanConfig.id == config_id)
        ).first()
        if row is None or row.interval is None:
            return
        failures = row.consecutive_failures + 1
        delay = backoff_delay(failures, row.interval)
        values = {
            "consecutive_failures": failures,
            "next_run_not_before": finished_at + delay if delay is not None else None,
        }
    db.execute(
        update(ScanConfig)
        .where(ScanConfig.id == config_id)
        .values(updated_at=ScanConfig.updated_at, **values)
        .execution_options(synchronize_session=False)
    )


def _newest_completed_windows(db: Session, config_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """Per config: the latest `time_to` of a completed job that collected metrics."""
    rows = db.execute(
        select(ScanJob.scan_config_id, func.max(ScanJob.time_to))
        .where(
            ScanJob.scan_config_id.in_(config_ids),
            ScanJob.status == ScanJobStatus.completed,
            ScanJob.kind.in_(COLLECTING_KINDS),
            ScanJob.time_to.is_not(None),
        )
        .group_by(ScanJob.scan_config_id)
    )
    return {config_id: moment for config_id, moment in rows if moment is not None}


def progress_by_config(db: Session, configs: list[ScanConfig]) -> dict[uuid.UUID, datetime]:
    """How far each monitoring config is collected (exclusive end), in two grouped queries."""
    ids = [c.id for c in configs]
    if not ids:
        return {}
    windows = _newest_completed_windows(db, ids)
    newest_bucket: dict[uuid.UUID, datetime | None] = {
        config_id: bucket
        for config_id, bucket in db.execute(
            select(CoveragePoint.scan_config_id, func.max(CoveragePoint.bucket))
            .where(CoveragePoint.scan_config_id.in_(ids))
            .group_by(CoveragePoint.scan_config_id)
        )
    }
    progress: dict[uuid.UUID, datetime] = {}
    for config in configs:
        candidates = [windows.get(config.id)]
        bucket = newest_bucket.get(config.id)
        if bucket is not None and config.interval is not None:
            candidates.append(_aware(bucket) + interval_length(config.interval))
        known = [_aware(c) for c in candidates if c is not None]
        if known:
            progress[config.id] = max(known)
    return progress


def affected_rows(result: Result[Any]) -> int:
    """Rows an UPDATE/DELETE touched."""
    return int(cast(CursorResult[Any], result).rowcount)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def schedule_due_scans(ctx: TriplContext, now: datetime | None = None) -> list[uuid.UUID]:
    """Queue a collect job for every monitoring config with an uncollected completed bucket.

    Returns the ids of the jobs created. Safe to run concurrently or twice: a config with an
    active job is skipped, and the one-active-job unique index refuses a second insert.
    """
    now = now or utcnow()
    with ctx.db.sessions() as db:
        has_active_job = exists().where(
            ScanJob.scan_config_id == ScanConfig.id, ScanJob.status.in_(ACTIVE_JOB_STATUSES)
        )
        candidates = list(
            db.scalars(
                select(ScanConfig).where(
                    ScanConfig.interval.is_not(None),
                    ScanConfig.time_column.is_not(None),
                    ScanConfig.time_column != "",
                    ~has_active_job,
                    (ScanConfig.next_run_not_before.is_(None)) | (ScanConfig.next_run_not_before <= now),
                )
            )
        )
        progress = progress_by_config(db, candidates)
    created: list[uuid.UUID] = []
    for config in candidates:
        assert config.interval is not None
        done_until = progress.get(config.id)
        if done_until is not None and done_until >= floor_bucket(now, config.interval):
            continue
        time_from, time_to = collection_window(config.interval, now, done_until)
        job_id = _create_scheduled_job(ctx, config.id, time_from, time_to)
        if job_id is not None:
            created.append(job_id)
    for job_id in created:
        enqueue_run(ctx, job_id)
    report_unschedulable_configs(ctx)
    return created


def _create_scheduled_job(
    ctx: TriplContext, config_id: uuid.UUID, time_from: datetime, time_to: datetime
) -> uuid.UUID | None:
    job = ScanJob(
        scan_config_id=config_id,
        kind=ScanJobKind.collect,
        trigger=SCHEDULE_TRIGGER,
        status=ScanJobStatus.pending,
        time_from=time_from,
        time_to=time_to,
    )
    try:
        with ctx.db.transaction() as db:
            db.add(job)
    except IntegrityError:  # a manual run (or another scheduler) got there first
        log.info("scan %s already has an active job; not scheduling", config_id)
        return None
    return job.id


def enqueue_run(ctx: TriplContext, job_id: uuid.UUID) -> None:
    """Send the queue message for a committed job row. A lost message is recovered by the reaper."""
    try:
        ctx.queue.enqueue(RUN_JOB, job_id=str(job_id))
    except Exception:
        log.warning("could not enqueue scan job %s; the reaper will retry", job_id, exc_info=True)


def report_unschedulable_configs(ctx: TriplContext) -> int:
    """One failed job per saved version of a config that has an interval but no time column."""
    already_reported = exists().where(
        ScanJob.scan_config_id == ScanConfig.id,
        ScanJob.trigger == SCHEDULE_TRIGGER,
        ScanJob.error_message == NOT_SCHEDULABLE_MESSAGE,
        ScanJob.created_at >= ScanConfig.updated_at,
    )
    with ctx.db.transaction() as db:
        config_ids = list(
            db.scalars(
                select(ScanConfig.id).where(
                    ScanConfig.interval.is_not(None),
                    (ScanConfig.time_column.is_(None)) | (ScanConfig.time_column == ""),
                    ~already_reported,
                )
            )
        )
        now = utcnow()
        for config_id in config_ids:
            db.add(
                ScanJob(
                    scan_config_id=config_id,
                    kind=ScanJobKind.collect,
                    trigger=SCHEDULE_TRIGGER,
                    status=ScanJobStatus.failed,
                    started_at=now,
                    completed_at=now,
                    error_message=NOT_SCHEDULABLE_MESSAGE,
                )
            )
    for config_id in config_ids:
        log.warning("scan %s has an interval but no time column; it is never collected", config_id)
    return len(config_ids)


@periodic_job("scans.schedule_due", minute="*")
def schedule_due_scans_every_minute(ctx: TriplContext) -> int:
    return len(schedule_due_scans(ctx))
