from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Header, Query, Request, Response, status

from tripl.core.db import utcnow
from tripl.core.deps import Context, DbSession
from tripl.core.reuse import GENERATION_STATE, ReusableResponse, reusable, validated_json
from tripl.plan.events import ordering, queries, service
from tripl.plan.events.history import list_changes
from tripl.plan.events.models import EventStatus
from tripl.plan.events.schemas import (
    MAX_BULK,
    EventBulkDelete,
    EventBulkUpdate,
    EventChangeResponse,
    EventCreate,
    EventListResponse,
    EventMove,
    EventReorder,
    EventResponse,
    EventUpdate,
)
from tripl.plan.photos.deps import PhotoStoreDep
from tripl.plan.projects.deps import BranchDep, ProjectDep
from tripl.workspace.auth.deps import Editor, Viewer

router = APIRouter(prefix="/projects/{slug}/events", tags=["events"])

NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.get("", response_model=EventListResponse, summary="List Events")
@reusable
def list_events(
    request: Request,
    project: ProjectDep,
    branch: BranchDep,
    db: DbSession,
    ctx: Context,
    principal: Viewer,
    event_type_id: uuid.UUID | None = None,
    search: Annotated[
        str | None, Query(description="Case-insensitive text in name, description or source name")
    ] = None,
    status: Annotated[list[EventStatus] | None, Query(description="Repeat the key for several")] = None,
    tag: str | None = None,
    silent_since_days: Annotated[int | None, Query(ge=0, le=3650)] = None,
    field_value: str | None = None,
    meta_value: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    # Minute resolution, so that repeated requests share one cached page.
    as_of = utcnow().replace(second=0, microsecond=0) if silent_since_days is not None else None
    f = queries.EventFilter(
        event_type_id,
        search,
        tuple(status) if status else None,
        tag,
        silent_since_days,
        field_value,
        meta_value,
        as_of=as_of,
    )
    generation: int | None = getattr(request.state, GENERATION_STATE)  # read first (@reusable)
    page = queries.cached_list_page(
        db, ctx.read_cache, generation, branch, f, offset=offset, limit=limit, if_none_match=if_none_match
    )
    if generation is None or page.etag is None:  # no generation row: nothing is cached
        return Response(page.body, media_type="application/json")
    if page.body is not None and principal.reusable_until is not None:
        until = principal.reusable_until
        if as_of is not None:
            until = min(until, as_of + timedelta(minutes=1))
        ctx.reusable.offer(request, ReusableResponse(generation, page.body, page.etag, until))
    return validated_json(page.etag, page.body)


@router.post("", response_model=EventResponse, status_code=status.HTTP_201_CREATED, summary="Create Event")
def create_event(
    body: EventCreate, project: ProjectDep, branch: BranchDep, db: DbSession, principal: Editor
) -> EventResponse:
    events = service.create_events(db, principal.user, project, branch, [body], bulk=False)
    return queries.response(db, events[0])


@router.get("/tags", response_model=list[str], summary="List Tags")
def list_tags(project: ProjectDep, branch: BranchDep, db: DbSession, _: Viewer) -> list[str]:
    return queries.list_tags(db, branch)


@router.post(
    "/bulk",
    response_model=list[EventResponse],
    status_code=status.HTTP_201_CREATED,
    summary="Bulk Create Events",
)
def bulk_create_events(
    body: Annotated[list[EventCreate], Body(max_length=MAX_BULK)],
    project: ProjectDep,
    branch: BranchDep,
    db: DbSession,
    principal: Editor,
) -> list[EventResponse]:
    events = service.create_events(db, principal.user, project, branch, body, bulk=True)
    return queries.responses(db, events)


@router.post("/bulk-delete", status_code=NO_CONTENT, summary="Bulk Delete Events")
def bulk_delete_events(
    body: EventBulkDelete,
    project: ProjectDep,
    branch: BranchDep,
    db: DbSession,
    principal: Editor,
    photo_store: PhotoStoreDep,
) -> Response:
    service.bulk_delete_events(db, principal.user, project, branch, body.event_ids, photo_store)
    return Response(status_code=NO_CONTENT)


@router.post("/bulk-update", status_code=NO_CONTENT, summary="Bulk Update Events")
def bulk_update_events(
    body: EventBulkUpdate, project: ProjectDep, branch: BranchDep, db: DbSession, principal: Editor
) -> Response:
    service.bulk_update_events(db, principal.user, project, branch, body)
    return Response(status_code=NO_CONTENT)


@router.patch("/reorder", response_model=list[EventResponse], summary="Reorder Events")
def reorder_events(
    body: EventReorder, project: ProjectDep, branch: BranchDep, db: DbSession, principal: Editor
) -> list[EventResponse]:
    events = ordering.reorder_events(db, principal.user, project, branch, body.event_ids)
    return queries.responses(db, events)


@router.get("/{event_id}", response_model=EventResponse, summary="Get Event")
def get_event(
    event_id: uuid.UUID, project: ProjectDep, branch: BranchDep, db: DbSession, _: Viewer
) -> EventResponse:
    return queries.response(db, queries.get_event(db, branch, event_id))


@router.patch("/{event_id}", response_model=EventResponse, summary="Update Event")
def update_event(
    event_id: uuid.UUID,
    body: EventUpdate,
    project: ProjectDep,
    branch: BranchDep,
    db: DbSession,
    principal: Editor,
) -> EventResponse:
    event = queries.get_event(db, branch, event_id)
    return queries.response(db, service.update_event(db, principal.user, project, branch, event, body))


@router.delete("/{event_id}", status_code=NO_CONTENT, summary="Delete Event")
def delete_event(
    event_id: uuid.UUID,
    project: ProjectDep,
    branch: BranchDep,
    db: DbSession,
    principal: Editor,
    photo_store: PhotoStoreDep,
) -> Response:
    event = queries.get_event(db, branch, event_id)
    service.delete_event(db, principal.user, project, event, photo_store)
    return Response(status_code=NO_CONTENT)


@router.get("/{event_id}/history", response_model=list[EventChangeResponse], summary="Get Event History")
def get_event_history(
    event_id: uuid.UUID, project: ProjectDep, branch: BranchDep, db: DbSession, _: Viewer
) -> list[EventChangeResponse]:
    event = queries.get_event(db, branch, event_id)
    return [EventChangeResponse.model_validate(c) for c in list_changes(db, event)]


@router.patch("/{event_id}/move", response_model=EventResponse, summary="Move Event")
def move_event(
    event_id: uuid.UUID,
    body: EventMove,
    project: ProjectDep,
    branch: BranchDep,
    db: DbSession,
    principal: Editor,
) -> EventResponse:
    event = queries.get_event(db, branch, event_id)
    moved = ordering.move_event(
        db, principal.user, project, branch, event, body.direction, body.visible_event_ids
    )
    return queries.response(db, moved)
