from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from tripl.core.errors import NotFound
from tripl.plan.event_types.models import EventType
from tripl.plan.owners.models import EventTypeOwner
from tripl.plan.owners.schemas import EventTypeOwnerResponse
from tripl.plan.projects.models import Project
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User


def _response(owner: EventTypeOwner, user: User) -> EventTypeOwnerResponse:
    return EventTypeOwnerResponse(
        id=owner.id,
        event_type_id=owner.event_type_id,
        user_id=owner.user_id,
        user_email=user.email,
        user_name=user.name or "",
        granted_by=owner.granted_by,
        created_at=owner.created_at,
    )


def list_owners(db: Session, event_type: EventType) -> list[EventTypeOwnerResponse]:
    rows = db.execute(
        select(EventTypeOwner, User)
        .join(User, User.id == EventTypeOwner.user_id)
        .where(EventTypeOwner.event_type_id == event_type.id)
        .order_by(EventTypeOwner.created_at, EventTypeOwner.id)
    ).all()
    return [_response(owner, user) for owner, user in rows]


def add_owner(
    db: Session, actor: User, project: Project, event_type: EventType, user_id: uuid.UUID
) -> EventTypeOwnerResponse:
    """Make a user an owner of the type; a user who already is one gets their existing row back."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    owner = db.scalar(
        select(EventTypeOwner).where(
            EventTypeOwner.event_type_id == event_type.id, EventTypeOwner.user_id == user_id
        )
    )
    if owner is not None:
        return _response(owner, user)
    owner = EventTypeOwner(event_type_id=event_type.id, user_id=user_id, granted_by=actor.id)
    db.add(owner)
    db.flush()
    audit.record(
        db,
        actor,
        "event_type_owner.add",
        target_type="event_type",
        target_id=event_type.id,
        target_name=event_type.name,
        project_id=project.id,
        project_slug=project.slug,
        payload={"owner_id": owner.id, "user_id": user.id, "user_email": user.email},
    )
    return _response(owner, user)


def remove_owner(
    db: Session, actor: User, project: Project, event_type: EventType, owner_id: uuid.UUID
) -> None:
    row = db.execute(
        select(EventTypeOwner, User.email)
        .join(User, User.id == EventTypeOwner.user_id)
        .where(EventTypeOwner.id == owner_id, EventTypeOwner.event_type_id == event_type.id)
    ).first()
    if row is None:
        raise NotFound("Owner not found")
    owner, email = row
    audit.record(
        db,
        actor,
        "event_type_owner.remove",
        target_type="event_type",
        target_id=event_type.id,
        target_name=event_type.name,
        project_id=project.id,
        project_slug=project.slug,
        payload={"owner_id": owner.id, "user_id": owner.user_id, "user_email": email},
    )
    db.delete(owner)
    db.flush()
