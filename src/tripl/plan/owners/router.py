from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from tripl.core.deps import DbSession
from tripl.plan.event_types.deps import EventTypeDep
from tripl.plan.owners import service
from tripl.plan.owners.schemas import EventTypeOwnerCreate, EventTypeOwnerResponse
from tripl.plan.projects.deps import ProjectDep
from tripl.workspace.auth.deps import Editor, Viewer

router = APIRouter(prefix="/projects/{slug}/event-types/{event_type_id}/owners", tags=["event-type-owners"])


@router.get("", response_model=list[EventTypeOwnerResponse], summary="List Owners")
def list_owners(_: Viewer, event_type: EventTypeDep, db: DbSession) -> list[EventTypeOwnerResponse]:
    return service.list_owners(db, event_type)


@router.post(
    "", response_model=EventTypeOwnerResponse, status_code=status.HTTP_201_CREATED, summary="Add Owner"
)
def add_owner(
    principal: Editor,
    body: EventTypeOwnerCreate,
    event_type: EventTypeDep,
    project: ProjectDep,
    db: DbSession,
) -> EventTypeOwnerResponse:
    return service.add_owner(db, principal.user, project, event_type, body.user_id)


@router.delete("/{owner_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove Owner")
def remove_owner(
    principal: Editor, owner_id: uuid.UUID, event_type: EventTypeDep, project: ProjectDep, db: DbSession
) -> Response:
    service.remove_owner(db, principal.user, project, event_type, owner_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
