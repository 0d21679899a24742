"""Scan configs: what to read from a warehouse and how; plus ad-hoc preview jobs."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tripl.core.context import TriplContext
from tripl.core.errors import Conflict, NotFound, Unprocessable
from tripl.observe.data_sources.models import DataSource
from tripl.observe.scans.models import ScanConfig, ScanJobStatus, ScanPreviewJob
from tripl.observe.scans.schemas import ScanConfigResponse, ScanPreviewJobResponse
from tripl.observe.scans.validation import ConfigRuleError, check_config
from tripl.observe.warehouse.base import DBType
from tripl.observe.warehouse.sql import InvalidQuery, parse_base_query
from tripl.plan.branches.service import main_branch
from tripl.plan.event_types.models import EventType
from tripl.plan.projects.models import Project
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User

log = logging.getLogger(__name__)

PREVIEW_JOB = "scans.preview"
# Every column of the contract's ScanConfigCreate except the data source (fixed at create).
CONFIG_KEYS = (
    "event_type_id",
    "name",
    "base_query",
    "event_type_column",
    "time_column",
    "event_name_format",
    "json_value_paths",
    "event_group_rules",
    "metric_breakdown_columns",
    "metric_breakdown_values_limit",
    "distribution_drift_fields",
    "cardinality_threshold",
    "interval",
    "replay_chunk_interval",
    "scan_lookback_hours",
    "scan_row_limit",
    "metrics_row_limit",
    "app_version_column",
    "app_version_keep_releases",
)


def to_response(config: ScanConfig) -> ScanConfigResponse:
    return ScanConfigResponse.model_validate(config)


def list_configs(db: Session, project: Project) -> list[ScanConfig]:
    return list(
        db.scalars(
            select(ScanConfig)
            .where(ScanConfig.project_id == project.id)
            .order_by(ScanConfig.name, ScanConfig.id)
        )
    )


def get_config(db: Session, project: Project, scan_id: uuid.UUID) -> ScanConfig:
    config = db.scalar(
        select(ScanConfig).where(ScanConfig.id == scan_id, ScanConfig.project_id == project.id)
    )
    if config is None:
        raise NotFound("Scan config not found")
    return config


def _data_source(db: Session, ds_id: uuid.UUID) -> DataSource:
    data_source = db.get(DataSource, ds_id)
    if data_source is None:
        raise Unprocessable("Data source not found", field="data_source_id")
    return data_source


def check_base_query(sql: str, db_type: DBType) -> None:
    try:
        parse_base_query(sql, db_type.dialect)
    except InvalidQuery as exc:
        raise Unprocessable(str(exc), field="base_query") from None


def _check_event_type(db: Session, project: Project, event_type_id: uuid.UUID | None) -> None:
    if event_type_id is None:
        return
    branch = main_branch(db, project)
    found = db.scalar(
        select(EventType.id).where(EventType.id == event_type_id, EventType.branch_id == branch.id)
    )
    if found is None:
        raise Unprocessable("Event type not found in this project's plan", field="event_type_id")


def _check_rules(values: dict[str, Any]) -> None:
    try:
        check_config(values)
    except ConfigRuleError as exc:
        raise Unprocessable(exc.message, field=exc.field) from None


def _ensure_name_free(db: Session, project: Project, name: str, except_id: uuid.UUID | None = None) -> None:
    query = select(ScanConfig.id).where(ScanConfig.project_id == project.id, ScanConfig.name == name)
    if except_id is not None:
        query = query.where(ScanConfig.id != except_id)
    if db.scalar(query) is not None:
        raise Conflict(f"Scan config '{name}' already exists in this project")


def _flush(db: Session, name: str) -> None:
    try:
        db.flush()
    except IntegrityError:  # a concurrent request took the name between our check and the insert
        raise Conflict(f"Scan config '{name}' already exists in this project") from None


def _audit(
    db: Session, actor: User, action: str, project: Project, config: ScanConfig, payload: dict[str, Any]
) -> None:
    audit.record(
        db,
        actor,
        action,
        target_type="scan_config",
        target_id=config.id,
        target_name=config.name,
        project_id=project.id,
        project_slug=project.slug,
        payload=payload,
    )


def create_config(db: Session, actor: User, project: Project, values: dict[str, Any]) -> ScanConfig:
    data_source = _data_source(db, values["data_source_id"])
    check_base_query(values["base_query"], data_source.db_type)
    _check_event_type(db, project, values.get("event_type_id"))
    _check_rules(values)
    _ensure_name_free(db, project, values["name"])
    config = ScanConfig(
        project_id=project.id,
        data_source_id=data_source.id,
        **{k: values[k] for k in CONFIG_KEYS if k in values},
    )
    db.add(config)
    _flush(db, config.name)
    _audit(db, actor, "scan_config.create", project, config, {"data_source_id": data_source.id, **values})
    return config


def update_config(
    db: Session, actor: User, project: Project, config: ScanConfig, changes: dict[str, Any]
) -> ScanConfig:
    changes = {k: v for k, v in changes.items() if k in CONFIG_KEYS}
    if "base_query" in changes:
        data_source = db.get(DataSource, config.data_source_id)
        assert data_source is not None  # the foreign key cascades deletes
        check_base_query(changes["base_query"], data_source.db_type)
    if "event_type_id" in changes:
        _check_event_type(db, project, changes["event_type_id"])
    _check_rules({key: changes.get(key, getattr(config, key)) for key in CONFIG_KEYS})
    if "name" in changes and changes["name"] != config.name:
        _ensure_name_free(db, project, changes["name"], config.id)
    for key, value in changes.items():
        setattr(config, key, value)
    _flush(db, config.name)
    _audit(db, actor, "scan_config.update", project, config, {"changes": changes})
    return config


def delete_config(db: Session, actor: User, project: Project, config: ScanConfig) -> None:
    _audit(db, actor, "scan_config.delete", project, config, {"data_source_id": config.data_source_id})
    # Jobs and metric series of the config go with it through ON DELETE CASCADE foreign keys.
    db.delete(config)
    db.flush()


# ---------------------------------------------------------------------------------------------
# Preview jobs


def preview_to_response(job: ScanPreviewJob) -> ScanPreviewJobResponse:
    return ScanPreviewJobResponse.model_validate(
        {
            "id": job.id,
            "status": job.status.value,
            "started_at": job.started_at,
            "completed_at": job.completed_at,
            "result_summary": job.result_summary,
            "error_message": job.error_message,
            "created_at": job.created_at,
            "updated_at": job.updated_at,
        }
    )


def create_preview_job(
    db: Session, actor: User, project: Project, data_source_id: uuid.UUID, request: dict[str, Any]
) -> ScanPreviewJob:
    """A pending preview job; `request` holds the JSON form of the other request fields."""
    data_source = _data_source(db, data_source_id)
    check_base_query(request["base_query"], data_source.db_type)
    job = ScanPreviewJob(
        project_id=project.id,
        data_source_id=data_source.id,
        request=request,
        status=ScanJobStatus.pending,
        created_by=actor.id,
    )
    db.add(job)
    db.flush()
    audit.record(
        db,
        actor,
        "scan_config.preview",
        target_type="scan_preview_job",
        target_id=job.id,
        project_id=project.id,
        project_slug=project.slug,
        payload={"data_source_id": data_source.id, "base_query": request["base_query"]},
    )
    return job


def enqueue_preview(ctx: TriplContext, job: ScanPreviewJob) -> ScanPreviewJob:
    """Queue a committed preview job; a queue that refuses the message fails the job visibly."""
    try:
        ctx.queue.enqueue(PREVIEW_JOB, job_id=str(job.id))
    except Exception:
        log.exception("could not queue preview job %s", job.id)
        with ctx.db.transaction() as db:
            stored = db.get(ScanPreviewJob, job.id)
            if stored is not None:
                stored.status = ScanJobStatus.failed
                stored.error_message = "Preview could not be queued; try again later"
                db.flush()
                return stored
    return job


def get_preview_job(db: Session, project: Project, job_id: uuid.UUID) -> ScanPreviewJob:
    job = db.scalar(
        select(ScanPreviewJob).where(ScanPreviewJob.id == job_id, ScanPreviewJob.project_id == project.id)
    )
    if job is None:
        raise NotFound("Preview job not found")
    return job
