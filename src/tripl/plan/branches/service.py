from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from tripl.core.errors import Invalid, NotFound
from tripl.plan.branches.models import BranchKind, BranchStatus, PlanBranch
from tripl.plan.projects.models import Project


def create_main_branch(db: Session, project: Project, created_by: uuid.UUID | None) -> PlanBranch:
    branch = PlanBranch(
        project_id=project.id,
        name="main",
        kind=BranchKind.main,
        status=BranchStatus.merged,
        created_by=created_by,
    )
    db.add(branch)
    return branch


def main_branch(db: Session, project: Project) -> PlanBranch:
    branch = db.scalar(
        select(PlanBranch).where(PlanBranch.project_id == project.id, PlanBranch.kind == BranchKind.main)
    )
    if branch is None:  # projects always get one at creation; heal rows imported without it
        branch = create_main_branch(db, project, project.created_by)
        db.flush()
    return branch


def resolve_branch(db: Session, project: Project, branch_ref: str | None) -> PlanBranch:
    """The branch a plan route acts on: `?branch=<id>` when given, else main."""
    if branch_ref is None or branch_ref == "":
        return main_branch(db, project)
    try:
        branch_id = uuid.UUID(branch_ref)
    except ValueError:
        raise Invalid("Invalid branch id") from None
    branch = db.scalar(
        select(PlanBranch).where(PlanBranch.id == branch_id, PlanBranch.project_id == project.id)
    )
    if branch is None:
        raise NotFound("Branch not found")
    return branch
