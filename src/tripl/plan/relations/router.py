from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from tripl.core.deps import DbSession
from tripl.plan.projects.deps import BranchDep, ProjectDep
from tripl.plan.relations import service
from tripl.plan.relations.schemas import RelationCreate, RelationResponse
from tripl.workspace.auth.deps import Editor, Viewer

router = APIRouter(prefix="/projects/{slug}/relations", tags=["relations"])


@router.get("", response_model=list[RelationResponse], summary="List Relations")
def list_relations(
    _: Viewer, project: ProjectDep, branch: BranchDep, db: DbSession
) -> list[RelationResponse]:
    return [RelationResponse.model_validate(r) for r in service.list_relations(db, branch)]


@router.post(
    "", response_model=RelationResponse, status_code=status.HTTP_201_CREATED, summary="Create Relation"
)
def create_relation(
    principal: Editor, body: RelationCreate, project: ProjectDep, branch: BranchDep, db: DbSession
) -> RelationResponse:
    return RelationResponse.model_validate(service.create_relation(db, principal.user, project, branch, body))


@router.delete("/{relation_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete Relation")
def delete_relation(
    principal: Editor, relation_id: uuid.UUID, project: ProjectDep, branch: BranchDep, db: DbSession
) -> Response:
    relation = service.get_relation(db, project, branch, relation_id)
    service.delete_relation(db, principal.user, project, relation)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
