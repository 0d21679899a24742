from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from tripl.core.errors import Conflict
from tripl.observe.scans.models import ScanConfig, ScanJob
from tripl.plan.branches.models import BranchKind, PlanBranch
from tripl.plan.branches.service import create_main_branch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventStatus
from tripl.plan.photos.cleanup import release_project_photos
from tripl.plan.photos.storage import PhotoStore
from tripl.plan.projects.models import Project
from tripl.plan.projects.schemas import ProjectLatestScanJob, ProjectResponse, ProjectSummary
from tripl.plan.variables.models import Variable
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User


def list_projects(db: Session) -> list[Project]:
    return list(db.scalars(select(Project).order_by(Project.name, Project.id)))


def _ensure_slug_free(db: Session, slug: str, except_id: uuid.UUID | None = None) -> None:
    query = select(Project.id).where(Project.slug == slug)
    if except_id is not None:
        query = query.where(Project.id != except_id)
    if db.scalar(query) is not None:
        raise Conflict(f"Project slug '{slug}' already exists")


def create_project(db: Session, actor: User, *, name: str, slug: str, description: str) -> Project:
    _ensure_slug_free(db, slug)
    project = Project(name=name, slug=slug, description=description, created_by=actor.id)
    db.add(project)
    db.flush()
    create_main_branch(db, project, actor.id)
    audit.record(
        db,
        actor,
        "project.create",
        target_type="project",
        target_id=project.id,
        target_name=name,
        project_id=project.id,
        project_slug=slug,
        payload={"name": name, "slug": slug},
    )
    return project


def update_project(db: Session, actor: User, project: Project, changes: dict[str, Any]) -> Project:
    if "slug" in changes and changes["slug"] != project.slug:
        _ensure_slug_free(db, changes["slug"], project.id)
    if changes.get("description", "") is None:
        changes["description"] = ""
    for field, value in changes.items():
        setattr(project, field, value)
    db.flush()
    audit.record(
        db,
        actor,
        "project.update",
        target_type="project",
        target_id=project.id,
        target_name=project.name,
        project_id=project.id,
        project_slug=project.slug,
        payload=changes,
    )
    return project


def delete_project(db: Session, actor: User, project: Project, photo_store: PhotoStore) -> None:
    audit.record(
        db,
        actor,
        "project.delete",
        target_type="project",
        target_id=project.id,
        target_name=project.name,
        project_id=project.id,
        project_slug=project.slug,
    )
    # Stored photo files are deleted once this transaction has committed.
    release_project_photos(db, photo_store, project.id)
    # Rows of the project go with it through ON DELETE CASCADE foreign keys, in this transaction.
    db.execute(delete(Project).where(Project.id == project.id))


def summaries(db: Session, project_ids: list[uuid.UUID]) -> dict[uuid.UUID, ProjectSummary]:
    """Summary counts of the main plan for many projects with a fixed number of grouped queries.

    Each area that owns countable rows contributes its counts here as it is built. Alert
    destinations, monitoring signals and monitors do not exist yet: their counts stay 0 and the
    latest signal None until those areas add their queries here.
    """
    if not project_ids:
        return {}
    counts: dict[uuid.UUID, dict[str, int]] = {pid: {} for pid in project_ids}
    on_main = (PlanBranch.kind == BranchKind.main, PlanBranch.project_id.in_(project_ids))

    def tally(status_is: Any) -> Any:
        return func.coalesce(func.sum(case((status_is, 1), else_=0)), 0)

    event_rows = db.execute(
        select(
            Event.project_id,
            func.count(),
            tally(Event.status != EventStatus.archived),
            tally(Event.status.in_([EventStatus.implemented, EventStatus.live])),
            tally(Event.status == EventStatus.in_review),
            tally(Event.status == EventStatus.archived),
        )
        .join(PlanBranch, PlanBranch.id == Event.branch_id)
        .where(*on_main)
        .group_by(Event.project_id)
    )
    for pid, total, active, implemented, in_review, archived in event_rows:
        counts[pid].update(
            event_count=total,
            active_event_count=active,
            implemented_event_count=implemented,
            review_pending_event_count=in_review,
            archived_event_count=archived,
        )
    for model, key in ((EventType, "event_type_count"), (Variable, "variable_count")):
        rows = db.execute(
            select(model.project_id, func.count())
            .join(PlanBranch, PlanBranch.id == model.branch_id)
            .where(*on_main)
            .group_by(model.project_id)
        )
        for pid, total in rows:
            counts[pid][key] = total
    scan_rows = db.execute(
        select(ScanConfig.project_id, func.count())
        .where(ScanConfig.project_id.in_(project_ids))
        .group_by(ScanConfig.project_id)
    )
    for pid, total in scan_rows:
        counts[pid]["scan_count"] = total
    latest = _latest_scan_jobs(db, project_ids)
    return {pid: ProjectSummary(**values, latest_scan_job=latest.get(pid)) for pid, values in counts.items()}


def _latest_scan_jobs(db: Session, project_ids: list[uuid.UUID]) -> dict[uuid.UUID, ProjectLatestScanJob]:
    """Each project's newest scan job, with its scan's name, in one windowed query."""
    newest_first = func.row_number().over(
        partition_by=ScanConfig.project_id, order_by=(ScanJob.created_at.desc(), ScanJob.id.desc())
    )
    ranked = (
        select(
            ScanJob.id.label("job_id"),
            ScanConfig.project_id,
            ScanConfig.name,
            newest_first.label("newest_rank"),
        )
        .join(ScanConfig, ScanConfig.id == ScanJob.scan_config_id)
        .where(ScanConfig.project_id.in_(project_ids))
        .subquery()
    )
    rows = db.execute(
        select(ranked.c.project_id, ranked.c.name, ScanJob)
        .join(ScanJob, ScanJob.id == ranked.c.job_id)
        .where(ranked.c.newest_rank == 1)
    )
    return {
        pid: ProjectLatestScanJob(
            id=job.id,
            scan_config_id=job.scan_config_id,
            scan_name=name,
            status=job.status.value,
            started_at=job.started_at,
            completed_at=job.completed_at,
            result_summary=job.result_summary,
            error_message=job.error_message,
            created_at=job.created_at,
        )
        for pid, name, job in rows
    }


def to_response(db: Session, projects: list[Project]) -> list[ProjectResponse]:
    by_id = summaries(db, [p.id for p in projects])
    return [
        ProjectResponse.model_validate(
            {
                "id": p.id,
                "name": p.name,
                "slug": p.slug,
                "description": p.description,
                "created_at": p.created_at,
                "updated_at": p.updated_at,
                "summary": by_id[p.id],
            }
        )
        for p in projects
    ]
