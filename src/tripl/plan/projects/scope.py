"""The project a `/projects/{slug}/…` route acts on, with its main branch, in one query."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tripl.plan.branches.models import BranchKind, PlanBranch
from tripl.plan.projects.models import Project


def project_with_main_branch(db: Session, slug: str) -> tuple[Project, PlanBranch | None] | None:
    row = db.execute(
        select(Project, PlanBranch)
        .outerjoin(PlanBranch, (PlanBranch.project_id == Project.id) & (PlanBranch.kind == BranchKind.main))
        .where(Project.slug == slug)
    ).first()
    return None if row is None else (row[0], row[1])
