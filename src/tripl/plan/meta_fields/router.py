from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from tripl.core.deps import DbSession
from tripl.plan.meta_fields import service
from tripl.plan.meta_fields.schemas import MetaFieldCreate, MetaFieldResponse, MetaFieldUpdate
from tripl.plan.projects.deps import BranchDep, ProjectDep
from tripl.workspace.auth.deps import Editor, Viewer

router = APIRouter(prefix="/projects/{slug}/meta-fields", tags=["meta-fields"])


@router.get("", response_model=list[MetaFieldResponse], summary="List Meta Fields")
def list_meta_fields(
    _: Viewer, project: ProjectDep, branch: BranchDep, db: DbSession
) -> list[MetaFieldResponse]:
    return [MetaFieldResponse.model_validate(m) for m in service.list_meta_fields(db, branch)]


@router.post(
    "", response_model=MetaFieldResponse, status_code=status.HTTP_201_CREATED, summary="Create Meta Field"
)
def create_meta_field(
    principal: Editor, body: MetaFieldCreate, project: ProjectDep, branch: BranchDep, db: DbSession
) -> MetaFieldResponse:
    return MetaFieldResponse.model_validate(
        service.create_meta_field(db, principal.user, project, branch, body)
    )


@router.patch("/{meta_field_id}", response_model=MetaFieldResponse, summary="Update Meta Field")
def update_meta_field(
    principal: Editor,
    meta_field_id: uuid.UUID,
    body: MetaFieldUpdate,
    project: ProjectDep,
    branch: BranchDep,
    db: DbSession,
) -> MetaFieldResponse:
    meta_field = service.get_meta_field(db, project, branch, meta_field_id)
    return MetaFieldResponse.model_validate(
        service.update_meta_field(db, principal.user, project, meta_field, body)
    )


@router.delete("/{meta_field_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete Meta Field")
def delete_meta_field(
    principal: Editor, meta_field_id: uuid.UUID, project: ProjectDep, branch: BranchDep, db: DbSession
) -> Response:
    meta_field = service.get_meta_field(db, project, branch, meta_field_id)
    service.delete_meta_field(db, principal.user, project, meta_field)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
