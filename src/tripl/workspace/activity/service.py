"""The activity feed: recent happenings of a project or the whole workspace, newest first.

Each kind of item comes from a source function that returns at most `limit` items, already cut in
SQL; the feed merges them and keeps the newest `limit`. Scans, anomalies and alert deliveries add
their own sources to SOURCES when those areas exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

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


SOURCES: list[ActivitySource] = [event_items]


def feed(db: Session, project_id: uuid.UUID | None, limit: int) -> list[ActivityItemResponse]:
    items = [item for source in SOURCES for item in source(db, project_id, limit)]
    items.sort(key=lambda i: (i.occurred_at, i.id), reverse=True)
    return items[:limit]
