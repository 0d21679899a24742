"""Project-scoped route dependencies: the project named by `{slug}` and the plan branch."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from tripl.core.deps import DbSession
from tripl.core.errors import NotFound
from tripl.plan.branches.models import PlanBranch
from tripl.plan.branches.service import resolve_branch
from tripl.plan.projects.models import Project
from tripl.plan.projects.scope import project_with_main_branch
from tripl.workspace.auth.deps import CurrentPrincipal


async def get_project(slug: str, request: Request, db: DbSession, _: CurrentPrincipal) -> Project:
    """The project of the route, after the caller was authenticated (and a bound key matched).

    `get_principal` already loaded it with its main branch, in the same thread-pool hop as the
    authentication (a hop per synchronous dependency is a visible share of a small request).
    """
    found: tuple[Project, PlanBranch | None] | None
    if hasattr(request.state, "project_scope"):
        found = request.state.project_scope
    else:
        found = await run_in_threadpool(project_with_main_branch, db, slug)
    if found is None:
        raise NotFound("Project not found")
    project, request.state.main_branch = found
    return project


ProjectDep = Annotated[Project, Depends(get_project)]


async def get_branch(
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
    return await run_in_threadpool(resolve_branch, db, project, branch)


BranchDep = Annotated[PlanBranch, Depends(get_branch)]
