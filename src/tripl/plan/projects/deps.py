"""Project-scoped route dependencies: the project named by `{slug}` and the plan branch."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import select

from tripl.core.deps import DbSession
from tripl.core.errors import NotFound
from tripl.plan.branches.models import PlanBranch
from tripl.plan.branches.service import resolve_branch
from tripl.plan.projects.models import Project
from tripl.workspace.auth.deps import CurrentPrincipal


def get_project(slug: str, db: DbSession, _: CurrentPrincipal) -> Project:
    """The project of the route, after the caller was authenticated (and a bound key matched)."""
    project = db.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise NotFound("Project not found")
    return project


ProjectDep = Annotated[Project, Depends(get_project)]


def get_branch(
    project: ProjectDep,
    db: DbSession,
    branch: Annotated[
        str | None, Query(description="Plan branch id; the project's main branch when omitted")
    ] = None,
) -> PlanBranch:
    return resolve_branch(db, project, branch)


BranchDep = Annotated[PlanBranch, Depends(get_branch)]
