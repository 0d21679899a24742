from __future__ import annotations

from fastapi import APIRouter, Response, status

from tripl.core.deps import DbSession
from tripl.plan.event_types import service
from tripl.plan.event_types.deps import EventTypeDep
from tripl.plan.event_types.schemas import EventTypeCreate, EventTypeResponse, EventTypeUpdate
from tripl.plan.photos.deps import PhotoStoreDep
from tripl.plan.projects.deps import BranchDep, ProjectDep
from tripl.workspace.auth.deps import Editor, Viewer

router = APIRouter(prefix="/projects/{slug}/event-types", tags=["event-types"])


@router.get("", response_model=list[EventTypeResponse], summary="List Event Types")
def list_event_types(
    _: Viewer, project: ProjectDep, branch: BranchDep, db: DbSession
) -> list[EventTypeResponse]:
    return service.to_response(db, service.list_event_types(db, branch))


@router.post(
    "", response_model=EventTypeResponse, status_code=status.HTTP_201_CREATED, summary="Create Event Type"
)
def create_event_type(
    principal: Editor, body: EventTypeCreate, project: ProjectDep, branch: BranchDep, db: DbSession
) -> EventTypeResponse:
    event_type = service.create_event_type(db, principal.user, project, branch, body)
    return service.to_response(db, [event_type])[0]


@router.get("/{event_type_id}", response_model=EventTypeResponse, summary="Get Event Type")
def get_event_type(_: Viewer, event_type: EventTypeDep, db: DbSession) -> EventTypeResponse:
    return service.to_response(db, [event_type])[0]


@router.patch("/{event_type_id}", response_model=EventTypeResponse, summary="Update Event Type")
def update_event_type(
    principal: Editor, body: EventTypeUpdate, event_type: EventTypeDep, project: ProjectDep, db: DbSession
) -> EventTypeResponse:
    event_type = service.update_event_type(db, principal.user, project, event_type, body)
    return service.to_response(db, [event_type])[0]


@router.delete("/{event_type_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete Event Type")
def delete_event_type(
    principal: Editor,
    event_type: EventTypeDep,
    project: ProjectDep,
    db: DbSession,
    photo_store: PhotoStoreDep,
) -> Response:
    service.delete_event_type(db, principal.user, project, event_type, photo_store)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
