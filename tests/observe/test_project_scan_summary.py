from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from tests.observe.observe_support import create_source

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.scans.models import ScanConfig, ScanJob, ScanJobKind, ScanJobStatus


def add_scan(ctx: TriplContext, project_id: str, ds_id: str, name: str) -> uuid.UUID:
    with ctx.db.transaction() as db:
        config = ScanConfig(
            project_id=uuid.UUID(project_id),
            data_source_id=uuid.UUID(ds_id),
            name=name,
            base_query="SELECT 1",
        )
        db.add(config)
        db.flush()
        return config.id


def add_job(
    ctx: TriplContext, scan_id: uuid.UUID, status: ScanJobStatus, age: timedelta, **extra: Any
) -> uuid.UUID:
    with ctx.db.transaction() as db:
        job = ScanJob(
            scan_config_id=scan_id,
            kind=ScanJobKind.catalog,
            status=status,
            created_at=utcnow() - age,
            **extra,
        )
        db.add(job)
        db.flush()
        return job.id


def test_summary_counts_scans_and_shows_the_latest_job(
    owner: TestClient, viewer: TestClient, project: dict[str, Any], context: TriplContext
) -> None:
    other = owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"}).json()
    source = create_source(owner)
    events = add_scan(context, str(project["id"]), source["id"], "events")
    clicks = add_scan(context, str(project["id"]), source["id"], "clicks")
    elsewhere = add_scan(context, str(other["id"]), source["id"], "elsewhere")
    add_job(
        context, events, ScanJobStatus.completed, timedelta(hours=3), result_summary={"events_created": 4}
    )
    latest = add_job(
        context,
        clicks,
        ScanJobStatus.failed,
        timedelta(hours=1),
        error_message="Scan failed: could not connect",
        started_at=utcnow() - timedelta(minutes=59),
        completed_at=utcnow() - timedelta(minutes=58),
    )
    add_job(context, events, ScanJobStatus.completed, timedelta(hours=2))
    add_job(context, elsewhere, ScanJobStatus.running, timedelta(minutes=1))

    summary = viewer.get("/api/v1/projects/shop").json()["summary"]
    assert summary["scan_count"] == 2
    job = summary["latest_scan_job"]
    assert (job["id"], job["scan_config_id"], job["scan_name"]) == (str(latest), str(clicks), "clicks")
    assert job["status"] == "failed" and job["error_message"] == "Scan failed: could not connect"
    assert job["started_at"] and job["completed_at"] and job["created_at"]

    listed = {p["slug"]: p["summary"] for p in viewer.get("/api/v1/projects").json()}
    assert listed["shop"]["latest_scan_job"] == job
    assert listed["other"]["scan_count"] == 1
    assert listed["other"]["latest_scan_job"]["scan_name"] == "elsewhere"
    assert listed["other"]["latest_scan_job"]["status"] == "running"


def test_summary_without_scans(owner: TestClient, project: dict[str, Any], context: TriplContext) -> None:
    source = create_source(owner)
    add_scan(context, str(project["id"]), source["id"], "never run")
    summary = owner.get("/api/v1/projects/shop").json()["summary"]
    assert summary["scan_count"] == 1 and summary["latest_scan_job"] is None
