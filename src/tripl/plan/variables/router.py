from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from tripl.core.deps import DbSession
from tripl.plan.projects.deps import BranchDep, ProjectDep
from tripl.plan.variables import service
from tripl.plan.variables.schemas import (
    VariableCreate,
    VariableResponse,
    VariableUpdate,
    VariableValueContextResponse,
)
from tripl.workspace.auth.deps import Editor, Viewer

router = APIRouter(prefix="/projects/{slug}/variables", tags=["variables"])


@router.get("", response_model=list[VariableResponse], summary="List Variables")
def list_variables(
    project: ProjectDep, branch: BranchDep, db: DbSession, _: Viewer
) -> list[VariableResponse]:
    return service.to_response(db, branch, service.list_variables(db, branch))


@router.post(
    "", response_model=VariableResponse, status_code=status.HTTP_201_CREATED, summary="Create Variable"
)
def create_variable(
    body: VariableCreate, project: ProjectDep, branch: BranchDep, db: DbSession, principal: Editor
) -> VariableResponse:
    variable = service.create_variable(
        db,
        principal.user,
        project,
        branch,
        name=body.name,
        variable_type=body.variable_type,
        description=body.description,
    )
    return service.to_response(db, branch, [variable])[0]


@router.get(
    "/{variable_id}/values", response_model=list[VariableValueContextResponse], summary="List Variable Values"
)
def list_variable_values(
    variable_id: uuid.UUID, project: ProjectDep, branch: BranchDep, db: DbSession, _: Viewer
) -> list[VariableValueContextResponse]:
    return service.list_value_contexts(db, service.get_variable(db, branch, variable_id))


@router.patch("/{variable_id}", response_model=VariableResponse, summary="Update Variable")
def update_variable(
    variable_id: uuid.UUID,
    body: VariableUpdate,
    project: ProjectDep,
    branch: BranchDep,
    db: DbSession,
    principal: Editor,
) -> VariableResponse:
    variable = service.get_variable(db, branch, variable_id)
    variable = service.update_variable(
        db, principal.user, project, branch, variable, body.model_dump(exclude_unset=True)
    )
    return service.to_response(db, branch, [variable])[0]


@router.delete("/{variable_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete Variable")
def delete_variable(
    variable_id: uuid.UUID, project: ProjectDep, branch: BranchDep, db: DbSession, principal: Editor
) -> Response:
    service.delete_variable(db, principal.user, project, service.get_variable(db, branch, variable_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
