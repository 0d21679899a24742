"""Creating, listing and cancelling scan jobs from API requests (no HTTP here).

A job row is written in the request's transaction; its queue message is sent only after that
transaction commits, so a worker never looks for a row that is not there yet. If the message is
lost anyway (queue down, process stopped), the reaper re-sends it for pending jobs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.core.errors import Conflict, Invalid, NotFound
from tripl.observe.scans.models import ACTIVE_JOB_STATUSES, ScanConfig, ScanJob, ScanJobKind, ScanJobStatus
from tripl.observe.scans.scheduling import (
    affected_rows,
    ceil_bucket,
    enqueue_run,
    floor_bucket,
    is_monitoring,
)
from tripl.plan.projects.models import Project
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User

ACTIVE_JOB_CONFLICT = "This scan already has a job pending or running; wait for it or cancel it"
_ENQUEUE_KEY = "tripl.scan_jobs_to_enqueue"


def get_config(db: Session, project: Project, scan_id: uuid.UUID) -> ScanConfig:
    config = db.scalar(
        select(ScanConfig).where(ScanConfig.id == scan_id, ScanConfig.project_id == project.id)
    )
    if config is None:
        raise NotFound("Scan config not found")
    return config


def get_job(db: Session, config: ScanConfig, job_id: uuid.UUID) -> ScanJob:
    job = db.scalar(select(ScanJob).where(ScanJob.id == job_id, ScanJob.scan_config_id == config.id))
    if job is None:
        raise NotFound("Scan job not found")
    return job


def list_jobs(db: Session, config: ScanConfig, *, limit: int) -> list[ScanJob]:
    return list(
        db.scalars(
            select(ScanJob)
            .where(ScanJob.scan_config_id == config.id)
            .order_by(ScanJob.created_at.desc(), ScanJob.id.desc())
            .limit(limit)
        )
    )


def start_job(
    db: Session,
    ctx: TriplContext,
    actor: User,
    project: Project,
    config: ScanConfig,
    kind: ScanJobKind,
    *,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
    audit_payload: dict[str, Any] | None = None,
) -> ScanJob:
    """A pending job for the config, queued once the request commits; 409 while another is active."""
    active = db.scalar(
        select(ScanJob.id).where(ScanJob.scan_config_id == config.id, ScanJob.status.in_(ACTIVE_JOB_STATUSES))
    )
    if active is not None:
        raise Conflict(ACTIVE_JOB_CONFLICT)
    job = ScanJob(
        scan_config_id=config.id,
        kind=kind,
        trigger="manual",
        status=ScanJobStatus.pending,
        time_from=time_from,
        time_to=time_to,
        created_by=actor.id,
    )
    try:
        with db.begin_nested():
            db.add(job)
    except IntegrityError:  # another request created an active job between our check and insert
        raise Conflict(ACTIVE_JOB_CONFLICT) from None
    audit.record(
        db,
        actor,
        f"scan.{_ACTION[kind]}",
        target_type="scan_config",
        target_id=config.id,
        target_name=config.name,
        project_id=project.id,
        project_slug=project.slug,
        payload={"job_id": job.id, **(audit_payload or {})},
    )
    _enqueue_after_commit(db, ctx, job.id)
    return job


_ACTION = {
    ScanJobKind.catalog: "run",
    ScanJobKind.collect: "collect",
    ScanJobKind.replay: "replay",
    ScanJobKind.apply_groups: "apply_event_groups",
}


def replay_window(
    config: ScanConfig, time_from: datetime, time_to: datetime, now: datetime
) -> tuple[datetime, datetime]:
    """[from, to) widened to whole buckets and stopped before the current, incomplete bucket."""
    if not is_monitoring(config):
        raise Invalid(
            "Metric replay needs a monitoring scan: set both time_column and interval on the scan config"
        )
    assert config.interval is not None
    snapped_from = floor_bucket(time_from, config.interval)
    snapped_to = min(ceil_bucket(time_to, config.interval), floor_bucket(now, config.interval))
    if snapped_to <= snapped_from:
        raise Invalid(
            f"The replay window holds no completed {config.interval.value} bucket; "
            "the current bucket is collected once it is complete"
        )
    return snapped_from, snapped_to


def cancel_job(db: Session, actor: User, project: Project, config: ScanConfig, job: ScanJob) -> ScanJob:
    """Pending: cancelled at once (the worker skips it). Running: flagged; the worker stops at the
    next chunk boundary and records `cancelled`. Conditional updates keep this right when a worker
    claims the job at the same moment."""
    now = utcnow()
    cancelled_pending = affected_rows(
        db.execute(
            update(ScanJob)
            .where(ScanJob.id == job.id, ScanJob.status == ScanJobStatus.pending)
            .values(status=ScanJobStatus.cancelled, cancel_requested=True, completed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if not cancelled_pending:
        flagged = affected_rows(
            db.execute(
                update(ScanJob)
                .where(ScanJob.id == job.id, ScanJob.status == ScanJobStatus.running)
                .values(cancel_requested=True, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if not flagged:
            raise Conflict(f"Only a pending or running job can be cancelled; this job is {job.status.value}")
    db.refresh(job)
    audit.record(
        db,
        actor,
        "scan_job.cancel",
        target_type="scan_job",
        target_id=job.id,
        target_name=config.name,
        project_id=project.id,
        project_slug=project.slug,
        payload={"scan_config_id": config.id, "status": job.status},
    )
    return job


def _enqueue_after_commit(db: Session, ctx: TriplContext, job_id: uuid.UUID) -> None:
    pending: list[uuid.UUID] | None = db.info.get(_ENQUEUE_KEY)
    if pending is None:
        pending = db.info[_ENQUEUE_KEY] = []

        def send(session: Session) -> None:
            ids, session.info[_ENQUEUE_KEY] = session.info.get(_ENQUEUE_KEY, []), []
            for queued_id in ids:
                enqueue_run(ctx, queued_id)

        def forget_if_rolled_back(session: Session, transaction: SessionTransaction) -> None:
            if transaction.parent is None:  # after a commit the list was already sent and emptied
                session.info[_ENQUEUE_KEY] = []

        event.listen(db, "after_commit", send)
        event.listen(db, "after_transaction_end", forget_if_rolled_back)
    pending.append(job_id)
