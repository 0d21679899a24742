"""Scan config CRUD and previews. Job routes (run, jobs, cancel, replay, event groups) live in
job_router.py. Literal segments (/preview, /preview-jobs) are declared before /{scan_id}."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from tripl.core.deps import Context, DbSession
from tripl.observe.scans import service
from tripl.observe.scans.schemas import (
    ScanConfigCreate,
    ScanConfigPreviewRequest,
    ScanConfigResponse,
    ScanConfigUpdate,
    ScanPreviewJobResponse,
)
from tripl.plan.projects.deps import ProjectDep
from tripl.workspace.auth.deps import Owner, OwnerRead, Viewer

router = APIRouter(prefix="/projects/{slug}/scans", tags=["scans"])


@router.get("", response_model=list[ScanConfigResponse], summary="List Scan Configs")
def list_scan_configs(project: ProjectDep, db: DbSession, _: Viewer) -> list[ScanConfigResponse]:
    return [service.to_response(config) for config in service.list_configs(db, project)]


@router.post(
    "", response_model=ScanConfigResponse, status_code=status.HTTP_201_CREATED, summary="Create Scan Config"
)
def create_scan_config(
    body: ScanConfigCreate, project: ProjectDep, db: DbSession, principal: Owner
) -> ScanConfigResponse:
    config = service.create_config(db, principal.user, project, body.model_dump())
    return service.to_response(config)


@router.post(
    "/preview",
    response_model=ScanPreviewJobResponse,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Preview Scan Config",
)
def preview_scan_config(
    body: ScanConfigPreviewRequest, project: ProjectDep, db: DbSession, ctx: Context, principal: Owner
) -> ScanPreviewJobResponse:
    """Queues a preview of the query (columns, sample rows, JSON paths); poll the preview job."""
    request = body.model_dump(mode="json", exclude={"data_source_id"})
    job = service.create_preview_job(db, principal.user, project, body.data_source_id, request)
    db.commit()  # the worker must find the row when it takes the message
    return service.preview_to_response(service.enqueue_preview(ctx, job))


@router.get("/preview-jobs/{job_id}", response_model=ScanPreviewJobResponse, summary="Get Scan Preview Job")
def get_scan_preview_job(
    job_id: uuid.UUID, project: ProjectDep, db: DbSession, _: OwnerRead
) -> ScanPreviewJobResponse:
    return service.preview_to_response(service.get_preview_job(db, project, job_id))


@router.get("/{scan_id}", response_model=ScanConfigResponse, summary="Get Scan Config")
def get_scan_config(scan_id: uuid.UUID, project: ProjectDep, db: DbSession, _: Viewer) -> ScanConfigResponse:
    return service.to_response(service.get_config(db, project, scan_id))


@router.patch("/{scan_id}", response_model=ScanConfigResponse, summary="Update Scan Config")
def update_scan_config(
    scan_id: uuid.UUID, body: ScanConfigUpdate, project: ProjectDep, db: DbSession, principal: Owner
) -> ScanConfigResponse:
    config = service.get_config(db, project, scan_id)
    config = service.update_config(db, principal.user, project, config, body.model_dump(exclude_unset=True))
    return service.to_response(config)


@router.delete("/{scan_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete Scan Config")
def delete_scan_config(scan_id: uuid.UUID, project: ProjectDep, db: DbSession, principal: Owner) -> Response:
    service.delete_config(db, principal.user, project, service.get_config(db, project, scan_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
