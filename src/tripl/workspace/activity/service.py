"""The activity feed: recent happenings of a project or the whole workspace, newest first.

Each kind of item comes from a source function that returns at most `limit` items, already cut in
SQL; the feed merges them and keeps the newest `limit`. Scans, anomalies and alert deliveries add
their own sources to SOURCES when those areas exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tripl.observe.scans.models import ScanConfig, ScanJob, ScanJobStatus
from tripl.plan.branches.models import BranchKind, PlanBranch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event
from tripl.plan.projects.models import Project
from tripl.workspace.activity.schemas import ActivityItemResponse, ActivitySeverity, ActivityType

ActivitySource = Callable[[Session, uuid.UUID | None, int], list[ActivityItemResponse]]


def event_items(db: Session, project_id: uuid.UUID | None, limit: int) -> list[ActivityItemResponse]:
    """Main-branch events by their last change (working branches are drafts, not activity)."""
    query = (
        select(
            Event.id, Event.name, Event.status, Event.created_at, Event.updated_at, EventType.name, Project
        )
        .join(PlanBranch, PlanBranch.id == Event.branch_id)
        .join(Project, Project.id == Event.project_id)
        .join(EventType, EventType.id == Event.event_type_id)
        .where(PlanBranch.kind == BranchKind.main)
        .order_by(Event.updated_at.desc(), Event.id.desc())
        .limit(limit)
    )
    if project_id is not None:
        query = query.where(Event.project_id == project_id)
    items = []
    for event_id, name, status, created_at, updated_at, type_name, project in db.execute(query):
        verb = "created" if updated_at == created_at else "updated"
        items.append(
            ActivityItemResponse(
                id=f"event:{event_id}",
                project_id=project.id,
                project_slug=project.slug,
                project_name=project.name,
                type=ActivityType.event,
                severity=ActivitySeverity.low,
                title=f"Event {verb}: {name}",
                detail=f"{type_name} · {status.value}",
                target_path=f"/projects/{project.slug}/events/{event_id}",
                occurred_at=updated_at,
            )
        )
    return items


_SCAN_SEVERITY = {ScanJobStatus.failed: ActivitySeverity.high, ScanJobStatus.running: ActivitySeverity.medium}
# The counters of a run worth a line in the feed, in the order they are shown.
_SCAN_DELTAS = {
    "events_created": "new events",
    "event_types_created": "new event types",
    "variables_created": "new variables",
    "events_merged": "merged events",
    "metric_rows": "metric rows",
}


def _scan_detail(job: ScanJob) -> str:
    if job.status is ScanJobStatus.failed:
        return job.error_message or "failed"
    summary = job.result_summary or {}
    deltas = [f"{summary[key]} {label}" for key, label in _SCAN_DELTAS.items() if summary.get(key)]
    return ", ".join(deltas) or ("no changes" if job.status is ScanJobStatus.completed else job.status.value)


def scan_items(db: Session, project_id: uuid.UUID | None, limit: int) -> list[ActivityItemResponse]:
    """Scan jobs by when they last moved (finished, else started, else queued)."""
    occurred = func.coalesce(ScanJob.completed_at, ScanJob.started_at, ScanJob.created_at)
    query = (
        select(ScanJob, ScanConfig.name, Project)
        .join(ScanConfig, ScanConfig.id == ScanJob.scan_config_id)
        .join(Project, Project.id == ScanConfig.project_id)
        .order_by(occurred.desc(), ScanJob.id.desc())
        .limit(limit)
    )
    if project_id is not None:
        query = query.where(ScanConfig.project_id == project_id)
    items = []
    for job, scan_name, project in db.execute(query):
        items.append(
            ActivityItemResponse(
                id=f"scan:{job.id}",
                project_id=project.id,
                project_slug=project.slug,
                project_name=project.name,
                type=ActivityType.scan,
                severity=_SCAN_SEVERITY.get(job.status, ActivitySeverity.low),
                title=f"Scan {job.status.value}: {scan_name}",
                detail=_scan_detail(job),
                target_path=f"/projects/{project.slug}/scans/{job.scan_config_id}",
                occurred_at=job.completed_at or job.started_at or job.created_at,
            )
        )
    return items


SOURCES: list[ActivitySource] = [event_items, scan_items]


def feed(db: Session, project_id: uuid.UUID | None, limit: int) -> list[ActivityItemResponse]:
    items = [item for source in SOURCES for item in source(db, project_id, limit)]
    items.sort(key=lambda i: (i.occurred_at, i.id), reverse=True)
    return items[:limit]
