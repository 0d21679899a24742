from __future__ import annotations

from fastapi import APIRouter, Response, status

from tripl.core.deps import Context, DbSession
from tripl.demo.service import release_demo_warehouse
from tripl.plan.photos.deps import PhotoStoreDep
from tripl.plan.projects import service
from tripl.plan.projects.deps import ProjectDep
from tripl.plan.projects.schemas import ProjectCreate, ProjectResponse, ProjectUpdate
from tripl.workspace.auth.deps import Editor, Owner, Viewer

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("", response_model=list[ProjectResponse], summary="List Projects")
def list_projects(db: DbSession, _: Viewer) -> list[ProjectResponse]:
    return service.to_response(db, service.list_projects(db))


@router.post(
    "", response_model=ProjectResponse, status_code=status.HTTP_201_CREATED, summary="Create Project"
)
def create_project(body: ProjectCreate, db: DbSession, principal: Editor) -> ProjectResponse:
    project = service.create_project(
        db, principal.user, name=body.name, slug=body.slug, description=body.description
    )
    return service.to_response(db, [project])[0]


@router.get("/{slug}", response_model=ProjectResponse, summary="Get Project")
def get_project(project: ProjectDep, db: DbSession, _: Viewer) -> ProjectResponse:
    return service.to_response(db, [project])[0]


@router.patch("/{slug}", response_model=ProjectResponse, summary="Update Project")
def update_project(
    body: ProjectUpdate, project: ProjectDep, db: DbSession, principal: Editor
) -> ProjectResponse:
    project = service.update_project(db, principal.user, project, body.model_dump(exclude_unset=True))
    return service.to_response(db, [project])[0]


@router.delete("/{slug}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete Project")
def delete_project(
    project: ProjectDep, db: DbSession, principal: Owner, photo_store: PhotoStoreDep, ctx: Context
) -> Response:
    release_demo_warehouse(db, ctx, project)
    service.delete_project(db, principal.user, project, photo_store)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
