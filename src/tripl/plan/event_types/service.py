from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tripl.core.errors import Conflict, NotFound, Unprocessable
from tripl.plan.branches.models import PlanBranch
from tripl.plan.event_types.models import EventType
from tripl.plan.event_types.schemas import EventTypeCreate, EventTypeResponse, EventTypeUpdate
from tripl.plan.events.models import Event
from tripl.plan.fields import service as fields
from tripl.plan.photos.cleanup import release_event_photos
from tripl.plan.photos.storage import PhotoStore
from tripl.plan.projects.models import Project
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User


def list_event_types(db: Session, branch: PlanBranch) -> list[EventType]:
    return list(
        db.scalars(
            select(EventType)
            .where(EventType.branch_id == branch.id)
            .order_by(EventType.order, EventType.name, EventType.id)
        )
    )


def get_event_type(db: Session, project: Project, branch: PlanBranch, event_type_id: uuid.UUID) -> EventType:
    event_type = db.scalar(
        select(EventType).where(
            EventType.id == event_type_id,
            EventType.project_id == project.id,
            EventType.branch_id == branch.id,
        )
    )
    if event_type is None:
        raise NotFound("Event type not found")
    return event_type


def to_response(db: Session, event_types: Sequence[EventType]) -> list[EventTypeResponse]:
    """Responses for many types with one query for all their fields."""
    by_type = fields.fields_by_type(db, [t.id for t in event_types])
    return [
        EventTypeResponse(
            id=t.id,
            project_id=t.project_id,
            name=t.name,
            display_name=t.display_name,
            description=t.description,
            color=t.color,
            order=t.order,
            created_at=t.created_at,
            updated_at=t.updated_at,
            field_definitions=fields.to_response(by_type[t.id]),
        )
        for t in event_types
    ]


def _audit(
    db: Session, actor: User, action: str, project: Project, event_type: EventType, payload: dict[str, Any]
) -> None:
    audit.record(
        db,
        actor,
        action,
        target_type="event_type",
        target_id=event_type.id,
        target_name=event_type.name,
        project_id=project.id,
        project_slug=project.slug,
        payload=payload,
    )


def create_event_type(
    db: Session, actor: User, project: Project, branch: PlanBranch, body: EventTypeCreate
) -> EventType:
    exists = db.scalar(
        select(EventType.id).where(EventType.branch_id == branch.id, EventType.name == body.name)
    )
    if exists is not None:
        raise Conflict(f"Event type '{body.name}' already exists")
    event_type = EventType(
        project_id=project.id,
        branch_id=branch.id,
        name=body.name,
        display_name=body.display_name,
        description=body.description,
        color=body.color,
        order=body.order,
    )
    db.add(event_type)
    db.flush()
    fields.add_fields(db, event_type, body.field_definitions, body_key="field_definitions")
    _audit(db, actor, "event_type.create", project, event_type, body.model_dump())
    return event_type


def update_event_type(
    db: Session, actor: User, project: Project, event_type: EventType, body: EventTypeUpdate
) -> EventType:
    if "name" in body.model_fields_set and body.name != event_type.name:
        raise Unprocessable("Event type name cannot be changed", field="name")
    changes = body.changes()
    for key, value in changes.items():
        setattr(event_type, key, value)
    db.flush()
    _audit(db, actor, "event_type.update", project, event_type, changes)
    return event_type


def delete_event_type(
    db: Session, actor: User, project: Project, event_type: EventType, photo_store: PhotoStore
) -> None:
    _audit(db, actor, "event_type.delete", project, event_type, {"name": event_type.name})
    event_ids = db.scalars(select(Event.id).where(Event.event_type_id == event_type.id)).all()
    release_event_photos(db, photo_store, event_ids)
    # Fields, events (with their values and photo rows), owners and relations go with it (ON DELETE CASCADE).
    db.delete(event_type)
    db.flush()
