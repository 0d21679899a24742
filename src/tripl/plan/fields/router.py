from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from tripl.core.deps import DbSession
from tripl.plan.event_types.deps import EventTypeDep
from tripl.plan.fields import service
from tripl.plan.fields.schemas import (
    FieldDefinitionBulkCreate,
    FieldDefinitionCreate,
    FieldDefinitionResponse,
    FieldDefinitionUpdate,
    FieldReorder,
)
from tripl.plan.projects.deps import ProjectDep
from tripl.workspace.auth.deps import Editor, Viewer

router = APIRouter(prefix="/projects/{slug}/event-types/{event_type_id}/fields", tags=["fields"])


@router.get("", response_model=list[FieldDefinitionResponse], summary="List Fields")
def list_fields(_: Viewer, event_type: EventTypeDep, db: DbSession) -> list[FieldDefinitionResponse]:
    return service.to_response(service.list_fields(db, event_type))


@router.post(
    "", response_model=FieldDefinitionResponse, status_code=status.HTTP_201_CREATED, summary="Create Field"
)
def create_field(
    principal: Editor,
    body: FieldDefinitionCreate,
    event_type: EventTypeDep,
    project: ProjectDep,
    db: DbSession,
) -> FieldDefinitionResponse:
    field = service.create_field(db, principal.user, project, event_type, body)
    return FieldDefinitionResponse.model_validate(field)


@router.post(
    "/bulk",
    response_model=list[FieldDefinitionResponse],
    status_code=status.HTTP_201_CREATED,
    summary="Bulk Create Fields",
)
def bulk_create_fields(
    principal: Editor,
    body: FieldDefinitionBulkCreate,
    event_type: EventTypeDep,
    project: ProjectDep,
    db: DbSession,
) -> list[FieldDefinitionResponse]:
    return service.to_response(service.bulk_create(db, principal.user, project, event_type, body.fields))


# Declared before "/{field_id}" so "reorder" is not read as a field id.
@router.patch("/reorder", response_model=list[FieldDefinitionResponse], summary="Reorder Fields")
def reorder_fields(
    principal: Editor, body: FieldReorder, event_type: EventTypeDep, project: ProjectDep, db: DbSession
) -> list[FieldDefinitionResponse]:
    return service.to_response(service.reorder(db, principal.user, project, event_type, body.field_ids))


@router.patch("/{field_id}", response_model=FieldDefinitionResponse, summary="Update Field")
def update_field(
    principal: Editor,
    field_id: uuid.UUID,
    body: FieldDefinitionUpdate,
    event_type: EventTypeDep,
    project: ProjectDep,
    db: DbSession,
) -> FieldDefinitionResponse:
    field = service.get_field(db, event_type, field_id)
    field = service.update_field(db, principal.user, project, event_type, field, body)
    return FieldDefinitionResponse.model_validate(field)


@router.delete("/{field_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete Field")
def delete_field(
    principal: Editor, field_id: uuid.UUID, event_type: EventTypeDep, project: ProjectDep, db: DbSession
) -> Response:
    field = service.get_field(db, event_type, field_id)
    service.delete_field(db, principal.user, project, event_type, field)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
