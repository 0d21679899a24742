from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tripl.core.deps import DbSession
from tripl.plan.projects.deps import ProjectDep
from tripl.workspace.activity import service
from tripl.workspace.activity.schemas import ActivityItemResponse
from tripl.workspace.auth.deps import Viewer

router = APIRouter(prefix="/activity", tags=["activity"])

Limit = Annotated[int, Query(ge=1, le=100)]


@router.get("", response_model=list[ActivityItemResponse], summary="List Workspace Activity")
def list_workspace_activity(db: DbSession, _: Viewer, limit: Limit = 20) -> list[ActivityItemResponse]:
    return service.feed(db, None, limit)


@router.get("/projects/{slug}", response_model=list[ActivityItemResponse], summary="List Project Activity")
def list_project_activity(
    project: ProjectDep, db: DbSession, _: Viewer, limit: Limit = 20
) -> list[ActivityItemResponse]:
    return service.feed(db, project.id, limit)
