"""Scan job routes: run, list, get, cancel, metric replay, apply event groups."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from tripl.core.db import utcnow
from tripl.core.deps import Context, DbSession
from tripl.observe.scans import job_service as service
from tripl.observe.scans.job_schemas import ScanJobResponse, ScanMetricsReplayRequest
from tripl.observe.scans.models import ScanJobKind
from tripl.plan.projects.deps import ProjectDep
from tripl.workspace.auth.deps import Editor, Owner, Viewer

router = APIRouter(prefix="/projects/{slug}/scans", tags=["scans"])


@router.post(
    "/{scan_id}/run",
    response_model=ScanJobResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Run Scan",
)
def run_scan(
    scan_id: uuid.UUID, project: ProjectDep, db: DbSession, ctx: Context, principal: Editor
) -> ScanJobResponse:
    config = service.get_config(db, project, scan_id)
    job = service.start_job(db, ctx, principal.user, project, config, ScanJobKind.catalog)
    return ScanJobResponse.model_validate(job)


@router.get("/{scan_id}/jobs", response_model=list[ScanJobResponse], summary="List Scan Jobs")
def list_scan_jobs(
    scan_id: uuid.UUID,
    project: ProjectDep,
    db: DbSession,
    _: Viewer,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ScanJobResponse]:
    config = service.get_config(db, project, scan_id)
    return [ScanJobResponse.model_validate(job) for job in service.list_jobs(db, config, limit=limit)]


@router.get("/{scan_id}/jobs/{job_id}", response_model=ScanJobResponse, summary="Get Scan Job")
def get_scan_job(
    scan_id: uuid.UUID, job_id: uuid.UUID, project: ProjectDep, db: DbSession, _: Viewer
) -> ScanJobResponse:
    config = service.get_config(db, project, scan_id)
    return ScanJobResponse.model_validate(service.get_job(db, config, job_id))


@router.post("/{scan_id}/jobs/{job_id}/cancel", response_model=ScanJobResponse, summary="Cancel Scan Job")
def cancel_scan_job(
    scan_id: uuid.UUID, job_id: uuid.UUID, project: ProjectDep, db: DbSession, principal: Editor
) -> ScanJobResponse:
    config = service.get_config(db, project, scan_id)
    job = service.get_job(db, config, job_id)
    return ScanJobResponse.model_validate(service.cancel_job(db, principal.user, project, config, job))


@router.post(
    "/{scan_id}/metrics/replay",
    response_model=ScanJobResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Replay Scan Metrics",
)
def replay_scan_metrics(
    scan_id: uuid.UUID,
    body: ScanMetricsReplayRequest,
    project: ProjectDep,
    db: DbSession,
    ctx: Context,
    principal: Owner,
) -> ScanJobResponse:
    config = service.get_config(db, project, scan_id)
    time_from, time_to = service.replay_window(config, body.time_from, body.time_to, utcnow())
    job = service.start_job(
        db,
        ctx,
        principal.user,
        project,
        config,
        ScanJobKind.replay,
        time_from=time_from,
        time_to=time_to,
        audit_payload={"time_from": time_from, "time_to": time_to},
    )
    return ScanJobResponse.model_validate(job)


@router.post(
    "/{scan_id}/event-groups/apply",
    response_model=ScanJobResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Apply Scan Event Groups",
)
def apply_scan_event_groups(
    scan_id: uuid.UUID, project: ProjectDep, db: DbSession, ctx: Context, principal: Editor
) -> ScanJobResponse:
    config = service.get_config(db, project, scan_id)
    job = service.start_job(db, ctx, principal.user, project, config, ScanJobKind.apply_groups)
    return ScanJobResponse.model_validate(job)
