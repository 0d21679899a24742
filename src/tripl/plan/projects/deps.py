"""Project-scoped route dependencies: the project named by `{slug}` and the plan branch."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import select

from tripl.core.deps import DbSession
from tripl.core.errors import NotFound
from tripl.plan.branches.models import BranchKind, PlanBranch
from tripl.plan.branches.service import resolve_branch
from tripl.plan.projects.models import Project
from tripl.workspace.auth.deps import CurrentPrincipal


def get_project(slug: str, request: Request, db: DbSession, _: CurrentPrincipal) -> Project:
    """The project of the route, after the caller was authenticated (and a bound key matched).

    Its main branch comes in the same query, for `get_branch`: most plan routes need both.
    """
    row = db.execute(
        select(Project, PlanBranch)
        .outerjoin(PlanBranch, (PlanBranch.project_id == Project.id) & (PlanBranch.kind == BranchKind.main))
        .where(Project.slug == slug)
    ).first()
    if row is None:
        raise NotFound("Project not found")
    project, request.state.main_branch = row
    return project


ProjectDep = Annotated[Project, Depends(get_project)]


def get_branch(
    project: ProjectDep,
    request: Request,
    db: DbSession,
    branch: Annotated[
        str | None, Query(description="Plan branch id; the project's main branch when omitted")
    ] = None,
) -> PlanBranch:
    main: PlanBranch | None = getattr(request.state, "main_branch", None)
    if not branch and main is not None:
        return main
    return resolve_branch(db, project, branch)


BranchDep = Annotated[PlanBranch, Depends(get_branch)]
