from __future__ import annotations

from fastapi import APIRouter, status

from tripl.core.deps import Context, DbSession
from tripl.demo import service
from tripl.plan.projects.models import Project
from tripl.plan.projects.schemas import ProjectResponse
from tripl.plan.projects.service import to_response
from tripl.workspace.auth.deps import Editor

# Registered before the projects router so the literal path is never read as a project slug.
router = APIRouter(prefix="/projects", tags=["projects"])


@router.post(
    "/demo",
    response_model=ProjectResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Create Demo Project",
)
def create_demo_project(db: DbSession, ctx: Context, principal: Editor) -> ProjectResponse:
    # Provisioning commits in steps of its own (seed, then scan jobs as a worker runs them); the
    # request's transaction only authenticated the caller. End it first: on SQLite it holds the
    # write lock the provisioning steps need.
    db.commit()
    project_id = service.create_demo_project(ctx, principal.user.id)
    with ctx.db.sessions() as read:
        project = read.get(Project, project_id)
        assert project is not None
        return to_response(read, [project])[0]
