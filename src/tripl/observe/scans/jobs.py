"""The scan job runner and its queue jobs: claim a row, run the pipelines, record the outcome.

Lifecycle: pending → running → completed | failed | cancelled.

- Claiming is one conditional UPDATE (pending → running, attempts + 1), so however many copies
  of a queue message exist, one worker runs the job; a cancelled or finished job is skipped.
- While a job runs, a heartbeat thread refreshes `heartbeat_at` every HEARTBEAT_EVERY seconds,
  independent of how long one warehouse statement takes. Every write the runner makes is
  conditioned on "still running, still my attempt": if the reaper handed the job to another
  worker, this one notices at its next write and stops without touching the row.
- Pipelines get a `JobControl` per phase; checkpoints are stored per phase
  (`{"catalog": ..., "metrics": ..., "done": [phases]}`) so a resumed job skips finished phases
  and continues the unfinished one where it stopped.
- The reaper (every minute) re-queues running jobs whose heartbeat is older than STALE_AFTER
  (their worker died) up to MAX_ATTEMPTS, then fails them; and re-sends the queue message of
  pending jobs nobody claimed for LOST_MESSAGE_AFTER.
"""

from __future__ import annotations

import functools
import importlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import sqlglot
from sqlalchemy import Connection, Table, Update, bindparam, event, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.core.jobs import job, periodic_job, worker_warm_up
from tripl.observe.scans.models import ScanConfig, ScanJob, ScanJobKind, ScanJobStatus
from tripl.observe.scans.runtime import ScanFailed
from tripl.observe.scans.scheduling import (
    SCHEDULE_TRIGGER,
    affected_rows,
    collection_window,
    enqueue_run,
    is_monitoring,
    progress_by_config,
    record_scheduled_outcome,
)
from tripl.observe.warehouse.base import WarehouseError
from tripl.observe.warehouse.base_query import DIALECTS

log = logging.getLogger(__name__)

# The heartbeat thread beats every HEARTBEAT_EVERY seconds; a job whose beat is STALE_AFTER old
# has missed ~20 beats, which only happens when its worker process is gone (killed, host lost),
# never because a warehouse query is slow. Ten minutes keeps recovery quick after a crash while
# tolerating a worker stalled by a busy metadata database for a few minutes.
HEARTBEAT_EVERY = 30.0
STALE_AFTER = timedelta(minutes=10)
# Three tries: one crash is bad luck, three in a row means the job itself kills its worker
# (e.g. memory), so retrying more would only take workers down again.
MAX_ATTEMPTS = 3
# A pending job nobody claimed for this long has probably lost its queue message; a duplicate
# message is harmless because claiming is atomic.
LOST_MESSAGE_AFTER = timedelta(minutes=5)

WORKER_LOST_MESSAGE = "Scan failed: the worker stopped responding ({attempts} attempts)"
NO_GROUP_RULES_MESSAGE = (
    "This scan has no event group rules to apply; add event_group_rules to the scan config first"
)
MAX_ERROR_LENGTH = 1000

CATALOG_PIPELINE = ("tripl.observe.scans.catalog", "run_catalog")
METRICS_PIPELINE = ("tripl.observe.metrics.collection", "collect_metrics")
GROUPS_PIPELINE = ("tripl.observe.scans.groups", "apply_event_groups")


class LostClaim(Exception):
    """The job is no longer this worker's (the reaper re-queued it, or it was deleted)."""


@dataclass
class _Claim:
    """This worker's hold on a running job: every write is conditioned on it."""

    ctx: TriplContext
    job_id: uuid.UUID
    attempt: int
    lost: bool = False

    def write(self, **values: Any) -> None:
        with self.ctx.db.transaction() as db:
            self.write_in(db, **values)

    def write_in(self, db: Session, **values: Any) -> None:
        """The conditional update inside the caller's transaction (LostClaim rolls it all back)."""
        now = utcnow()
        values = {"heartbeat_at": now, "updated_at": now, **values}
        params = {f"new_{name}": value for name, value in values.items()}
        statement = _claimed_update(tuple(values))
        result = db.connection().execute(statement, {"job": self.job_id, "attempt": self.attempt, **params})
        if not affected_rows(result):
            self.lost = True
            raise LostClaim(str(self.job_id))

    def cancel_requested(self) -> bool:
        if self.lost:
            raise LostClaim(str(self.job_id))
        with self.ctx.db.engine.connect() as connection:
            return self._cancel_requested(connection)

    def cancel_requested_in(self, db: Session) -> bool:
        """`cancel_requested`, read in the caller's transaction."""
        return self._cancel_requested(db.connection())

    def _cancel_requested(self, connection: Connection) -> bool:
        row = connection.execute(_JOB_STATE, {"job": self.job_id}).first()
        if row is None or row.status != ScanJobStatus.running or row.attempts != self.attempt:
            self.lost = True
            raise LostClaim(str(self.job_id))
        return bool(row.cancel_requested)


# The runner's own statements, built once (a long job runs them once per chunk).
_jobs = cast(Table, ScanJob.__table__)
_JOB_STATE = select(_jobs.c.cancel_requested, _jobs.c.status, _jobs.c.attempts).where(
    _jobs.c.id == bindparam("job")
)


@functools.cache
def _claimed_update(columns: tuple[str, ...]) -> Update:
    """UPDATE of `columns` (from `new_<column>` parameters) while the job is still this attempt's."""
    return (
        update(_jobs)
        .where(
            _jobs.c.id == bindparam("job"),
            _jobs.c.status == ScanJobStatus.running,
            _jobs.c.attempts == bindparam("attempt"),
        )
        .values({name: bindparam(f"new_{name}") for name in columns})
    )


@dataclass
class _JobState:
    """What the runner keeps in memory of the row it owns (it is the only writer while running)."""

    summary: dict[str, Any]
    checkpoints: dict[str, Any]


@dataclass
class PhaseControl:
    """The `JobControl` one pipeline phase sees."""

    claim: _Claim
    state: _JobState
    phase: str
    job_id: uuid.UUID
    scan_config_id: uuid.UUID
    time_from: datetime | None
    time_to: datetime | None

    @property
    def checkpoint(self) -> dict[str, Any] | None:
        value = self.state.checkpoints.get(self.phase)
        return dict(value) if isinstance(value, dict) else None

    def progress(self, **summary: Any) -> None:
        self.state.summary.update(_jsonable(summary))
        self.claim.write(result_summary=dict(self.state.summary))

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.state.checkpoints[self.phase] = _jsonable(checkpoint)
        self.claim.write(checkpoint=dict(self.state.checkpoints))

    def save_in(self, db: Session, checkpoint: dict[str, Any], **summary: Any) -> None:
        checkpoints = {**self.state.checkpoints, self.phase: _jsonable(checkpoint)}
        merged = {**self.state.summary, **_jsonable(summary)}
        self.claim.write_in(db, checkpoint=checkpoints, result_summary=merged)

        def committed(_: Session) -> None:  # the runner's memory follows the row, not a rollback
            self.state.checkpoints, self.state.summary = checkpoints, merged

        event.listen(db, "after_commit", committed, once=True)

    def cancel_requested(self) -> bool:
        return self.claim.cancel_requested()


@dataclass
class _Heartbeat:
    claim: _Claim
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        name = f"scan-heartbeat-{self.claim.job_id}"
        self.thread = threading.Thread(target=self._beat, name=name, daemon=True)
        self.thread.start()

    def _beat(self) -> None:
        while not self.stop.wait(HEARTBEAT_EVERY):
            try:
                self.claim.write()
            except LostClaim:
                return
            except SQLAlchemyError:
                log.warning("heartbeat of scan job %s failed", self.claim.job_id, exc_info=True)

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=5)


def run_job(ctx: TriplContext, job_id: uuid.UUID, *, now: datetime | None = None) -> ScanJobStatus | None:
    """Run one scan job to its end. Returns the final status, or None when it was not ours to run."""
    claimed = _claim(ctx, job_id, now or utcnow())
    if claimed is None:
        return None
    row, config = claimed
    claim = _Claim(ctx, row.id, row.attempts)
    state = _JobState(
        summary=dict(row.result_summary or {}),
        checkpoints=dict(row.checkpoint or {}),
    )
    heartbeat = _Heartbeat(claim)
    heartbeat.start()
    started = time.monotonic()
    try:
        _dispatch(ctx, row, config, claim, state)
    except LostClaim:
        log.warning("scan job %s was taken over by another worker; stopping", job_id)
        return None
    except ScanFailed as exc:
        return _finish_failed(claim, row, state, _clip(str(exc)))
    except WarehouseError as exc:
        return _finish_failed(claim, row, state, f"Scan failed: {sanitise_warehouse_message(str(exc))}")
    except Exception:
        log.exception("scan job %s failed unexpectedly", job_id)
        return _finish_failed(claim, row, state, f"Scan failed due to an internal error (reference {job_id})")
    except BaseException:
        # The worker is being torn down mid-job: hand the job back so another worker resumes it.
        _release(claim)
        raise
    finally:
        heartbeat.close()
    state.summary.update(_outcome_summary(row, time.monotonic() - started))
    return _finish(claim, row, None, state, error=None)


def _claim(ctx: TriplContext, job_id: uuid.UUID, now: datetime) -> tuple[ScanJob, ScanConfig] | None:
    with ctx.db.transaction() as db:
        updated = affected_rows(
            db.execute(
                update(ScanJob)
                .where(ScanJob.id == job_id, ScanJob.status == ScanJobStatus.pending)
                .values(
                    status=ScanJobStatus.running,
                    attempts=ScanJob.attempts + 1,
                    heartbeat_at=now,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        )
        if not updated:
            log.info("scan job %s is not pending; skipping", job_id)
            return None
        row = db.scalars(select(ScanJob).where(ScanJob.id == job_id)).one()
        config = db.scalars(select(ScanConfig).where(ScanConfig.id == row.scan_config_id)).one()
        if row.started_at is None:
            row.started_at = now
        if row.kind is ScanJobKind.catalog and row.time_to is None and is_monitoring(config):
            # A manual run of a monitoring config also collects what the schedule would next.
            assert config.interval is not None
            done_until = progress_by_config(db, [config]).get(config.id)
            row.time_from, row.time_to = collection_window(config.interval, now, done_until)
        db.flush()
        db.expunge(config)
        db.expunge(row)
    return row, config


def _dispatch(ctx: TriplContext, row: ScanJob, config: ScanConfig, claim: _Claim, state: _JobState) -> None:
    phases: list[tuple[str, Callable[[PhaseControl], dict[str, Any]]]] = []
    if row.kind in (ScanJobKind.catalog, ScanJobKind.collect):
        # A scheduled collection catalogs only its own window when the config sets no lookback
        # (rescanning the whole query every bucket would be far too heavy); a manual run scans it all.
        window = (
            (row.time_from, row.time_to)
            if row.kind is ScanJobKind.collect and row.time_from and row.time_to
            else None
        )
        phases.append(
            (
                "catalog",
                lambda control: _pipeline(CATALOG_PIPELINE)(ctx, config.id, control, fallback_window=window),
            )
        )
    if row.kind in (ScanJobKind.collect, ScanJobKind.replay) or (
        row.kind is ScanJobKind.catalog and row.time_to is not None
    ):
        replay = row.kind is ScanJobKind.replay
        phases.append(
            ("metrics", lambda control: _pipeline(METRICS_PIPELINE)(ctx, config.id, control, replay=replay))
        )
    if row.kind is ScanJobKind.apply_groups:
        if not config.event_group_rules:
            raise ScanFailed(NO_GROUP_RULES_MESSAGE)
        phases.append(("groups", lambda control: _pipeline(GROUPS_PIPELINE)(ctx, config.id, control)))

    done: list[str] = list(state.checkpoints.get("done") or [])
    for number, (phase, run) in enumerate(phases):
        if phase in done:
            continue  # finished before a worker crash; its counters are already in the summary
        if claim.cancel_requested():
            return
        control = PhaseControl(claim, state, phase, row.id, config.id, row.time_from, row.time_to)
        started = time.monotonic()
        counters = run(control) or {}
        _merge_phase_counters(state.summary, counters)
        state.summary[f"{phase}_seconds"] = round(time.monotonic() - started, 3)
        done.append(phase)
        state.checkpoints["done"] = done
        if number < len(phases) - 1:  # the last phase's end is written with the job's outcome
            claim.write(result_summary=dict(state.summary), checkpoint=dict(state.checkpoints))


def _pipeline(where: tuple[str, str]) -> Callable[..., dict[str, Any]]:
    """Resolved at call time, so pipelines are found once their modules exist."""
    module, name = where
    fn: Callable[..., dict[str, Any]] = getattr(importlib.import_module(module), name)
    return fn


@worker_warm_up
def load_pipelines() -> None:
    """Import the pipelines, the embedded and PostgreSQL adapters (the other clients are heavy and
    stay lazy) and the SQL dialects, so a worker's first job doesn't."""
    for module, _ in (CATALOG_PIPELINE, METRICS_PIPELINE, GROUPS_PIPELINE):
        importlib.import_module(module)
    for module in ("tripl.observe.warehouse.duckdb", "tripl.observe.warehouse.postgres"):
        importlib.import_module(module)
    for dialect in DIALECTS:
        sqlglot.Dialect.get_or_raise(dialect)


def _merge_phase_counters(summary: dict[str, Any], counters: dict[str, Any]) -> None:
    for key, value in _jsonable(counters).items():
        if isinstance(value, list) and isinstance(summary.get(key), list) and key == "details":
            summary[key] = summary[key] + value  # each phase adds its own details
        else:
            summary[key] = value


def _outcome_summary(row: ScanJob, seconds: float) -> dict[str, Any]:
    return {
        "mode": row.kind.value,
        "trigger": row.trigger,
        "time_from": row.time_from.isoformat() if row.time_from else None,
        "time_to": row.time_to.isoformat() if row.time_to else None,
        "duration_seconds": round(seconds, 3),
    }


def _finish_failed(claim: _Claim, row: ScanJob, state: _JobState, message: str) -> ScanJobStatus | None:
    return _finish(claim, row, ScanJobStatus.failed, state, error=message)


def _finish(
    claim: _Claim, row: ScanJob, status: ScanJobStatus | None, state: _JobState, *, error: str | None
) -> ScanJobStatus | None:
    """Write the job's outcome and its checkpoints in one transaction. With no `status` the job ran
    to its end: completed, or cancelled when a cancel arrived meanwhile (read in that transaction,
    so a cancel is either seen here or comes after the job finished)."""
    now = utcnow()
    try:
        with claim.ctx.db.transaction() as db:
            ended: dict[str, Any] = {}
            if status is None:
                cancelled = claim.cancel_requested_in(db)
                status = ScanJobStatus.cancelled if cancelled else ScanJobStatus.completed
                ended["checkpoint"] = dict(state.checkpoints)  # the last phase is done
            claim.write_in(
                db,
                status=status,
                completed_at=now,
                result_summary=dict(state.summary) or None,
                error_message=error,
                **ended,
            )
            _record_backoff(db, row, status, now)
    except LostClaim:
        log.warning("scan job %s was taken over before it finished here; outcome dropped", row.id)
        return None
    log.info("scan job %s %s", row.id, status.value)
    return status


def _record_backoff(db: Session, row: ScanJob, status: ScanJobStatus, now: datetime) -> None:
    """Scheduled failures count towards backoff; any successful metrics run clears it."""
    if status is ScanJobStatus.failed and row.trigger == SCHEDULE_TRIGGER:
        record_scheduled_outcome(db, row.scan_config_id, succeeded=False, finished_at=now)
    elif status is ScanJobStatus.completed and row.kind is not ScanJobKind.apply_groups:
        record_scheduled_outcome(db, row.scan_config_id, succeeded=True, finished_at=now)


def _release(claim: _Claim) -> None:
    """Put a job this worker cannot finish back to pending (its checkpoint kept)."""
    try:
        claim.write(status=ScanJobStatus.pending, heartbeat_at=None)
    except Exception:  # the reaper recovers it from the stale heartbeat instead
        log.warning("could not release scan job %s", claim.job_id, exc_info=True)


# Connection strings and key=value secrets a driver may echo back in an error.
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s:@]+(?::[^/\s@]*)?@", re.IGNORECASE)
_SECRET_PAIRS = re.compile(
    r"\b(password|passwd|pwd|secret|token|api[_-]?key|private[_-]?key)\b(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)",
    re.IGNORECASE,
)


def sanitise_warehouse_message(message: str) -> str:
    """One line, no credentials, bounded length."""
    text = _URL_CREDENTIALS.sub(r"\1***@", message)
    text = _SECRET_PAIRS.sub(r"\1\2***", text)
    text = " ".join(text.split())
    return _clip(text or "the warehouse returned an error")


def _clip(message: str) -> str:
    return message if len(message) <= MAX_ERROR_LENGTH else message[: MAX_ERROR_LENGTH - 3] + "..."


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def reap_stale_jobs(ctx: TriplContext, now: datetime | None = None) -> dict[str, int]:
    """Recover jobs whose worker died and pending jobs whose queue message was lost."""
    now = now or utcnow()
    stale = now - STALE_AFTER
    is_stale = (ScanJob.status == ScanJobStatus.running) & (
        (ScanJob.heartbeat_at < stale) | (ScanJob.heartbeat_at.is_(None) & (ScanJob.updated_at < stale))
    )
    with ctx.db.transaction() as db:
        cancelled = affected_rows(
            db.execute(
                update(ScanJob)
                .where(is_stale, ScanJob.cancel_requested.is_(True))
                .values(status=ScanJobStatus.cancelled, completed_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        given_up = list(
            db.execute(
                update(ScanJob)
                .where(is_stale, ScanJob.attempts >= MAX_ATTEMPTS)
                .values(
                    status=ScanJobStatus.failed,
                    completed_at=now,
                    updated_at=now,
                    error_message=WORKER_LOST_MESSAGE.format(attempts=MAX_ATTEMPTS),
                )
                .returning(ScanJob.id, ScanJob.scan_config_id, ScanJob.trigger)
                .execution_options(synchronize_session=False)
            )
        )
        for _, config_id, trigger in given_up:
            if trigger == SCHEDULE_TRIGGER:
                record_scheduled_outcome(db, config_id, succeeded=False, finished_at=now)
        requeued = list(
            db.scalars(
                update(ScanJob)
                .where(is_stale)
                .values(status=ScanJobStatus.pending, heartbeat_at=None, updated_at=now)
                .returning(ScanJob.id)
                .execution_options(synchronize_session=False)
            )
        )
        lost_messages = list(
            db.scalars(
                update(ScanJob)
                .where(
                    ScanJob.status == ScanJobStatus.pending,
                    ScanJob.updated_at < now - LOST_MESSAGE_AFTER,
                )
                .values(updated_at=now)
                .returning(ScanJob.id)
                .execution_options(synchronize_session=False)
            )
        )
    for job_id in requeued:
        log.warning("scan job %s: worker stopped responding; queued again", job_id)
    for job_id in [*requeued, *lost_messages]:
        enqueue_run(ctx, job_id)
    return {
        "requeued": len(requeued),
        "failed": len(given_up),
        "cancelled": cancelled,
        "resent": len(lost_messages),
    }


@job("scans.run_job")
def run_job_from_queue(ctx: TriplContext, job_id: str) -> None:
    # Returns nothing: the outcome lives in the row, and a returned value would be kept in the
    # queue's result store forever (nobody reads it).
    run_job(ctx, uuid.UUID(job_id))


@periodic_job("scans.reap_stale_jobs", minute="*")
def reap_stale_jobs_every_minute(ctx: TriplContext) -> dict[str, int]:
    return reap_stale_jobs(ctx)
