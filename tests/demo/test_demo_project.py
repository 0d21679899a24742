"""POST /projects/demo: a real warehouse file, a plan, and the real scan pipeline over 21 days."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.demo.generator import EVENTS as GENERATED
from tripl.demo.service import EVENTS as PLANNED
from tripl.demo.service import NEVER_ARRIVES
from tripl.observe.data_sources.models import DataSource
from tripl.observe.metrics.models import MetricPoint, MetricScopeType
from tripl.observe.reconciliation.models import ShadowEvent
from tripl.observe.scans.models import ScanConfig, ScanJob, ScanJobStatus
from tripl.plan.events.models import Event
from tripl.plan.projects.models import Project

NEW_EVENT = "referral_tap"
STOPPED_EVENT = "share_tap"


def test_editor_gets_a_demo_project_scanned_from_its_own_warehouse(
    editor: TestClient, context: TriplContext
) -> None:
    response = editor.post("/api/v1/projects/demo")
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"demo-[0-9a-f]{6}", body["slug"])
    assert body["name"] == "Demo shop"
    summary = body["summary"]
    assert summary["event_type_count"] == 6
    # Every event the warehouse sends was discovered, plus the planned one that never arrives.
    assert summary["event_count"] == len(GENERATED) + 1
    assert summary["latest_scan_job"]["status"] == "completed", summary["latest_scan_job"]

    project_id = uuid.UUID(body["id"])
    warehouse = Path(context.settings.data_dir) / "warehouses" / f"{body['slug']}.duckdb"
    assert warehouse.is_file()
    with context.db.sessions() as db:
        config = db.scalars(select(ScanConfig).where(ScanConfig.project_id == project_id)).one()
        source = db.get(DataSource, config.data_source_id)
        assert source is not None and source.name == f"Demo warehouse {body['slug']}"
        jobs = db.scalars(select(ScanJob).where(ScanJob.scan_config_id == config.id)).all()
        assert sorted(j.kind.value for j in jobs) == ["catalog", "replay"]
        assert all(j.status == ScanJobStatus.completed for j in jobs), [j.error_message for j in jobs]

        events = {e.source_name: e for e in db.scalars(select(Event).where(Event.project_id == project_id))}
        assert set(events) == {spec.name for spec in GENERATED} | {NEVER_ARRIVES}
        planned = {p.name for p in PLANNED}
        assert NEW_EVENT not in planned  # so it can only have come from the warehouse

        buckets = db.scalar(
            select(func.count(func.distinct(MetricPoint.bucket))).where(
                MetricPoint.scan_config_id == config.id,
                MetricPoint.scope_type == MetricScopeType.project_total,
            )
        )
        assert buckets is not None and buckets >= 21 * 24
        per_event = dict(
            db.execute(
                select(MetricPoint.event_id, func.sum(MetricPoint.count))
                .where(
                    MetricPoint.scan_config_id == config.id, MetricPoint.scope_type == MetricScopeType.event
                )
                .group_by(MetricPoint.event_id)
            ).all()
        )
        assert events[NEVER_ARRIVES].id not in per_event  # planned, implemented, never sent: dead
        assert per_event[events["home_view"].id] > 10_000
        # The undocumented event is discovered by the catalog run, so collection matches it.
        assert events[NEW_EVENT].status == "in_review" and events[NEW_EVENT].id in per_event
        shadows = db.scalars(select(ShadowEvent.event_name).where(ShadowEvent.project_id == project_id))
        assert NEW_EVENT not in set(shadows)
        stopped = events[STOPPED_EVENT].last_seen_at
        assert stopped is not None and stopped < utcnow() - timedelta(days=3)


def test_viewer_cannot_create_the_demo_project(viewer: TestClient, context: TriplContext) -> None:
    warehouses = Path(context.settings.data_dir) / "warehouses"
    files_before = set(warehouses.glob("*.duckdb"))
    response = viewer.post("/api/v1/projects/demo")
    assert response.status_code == 403
    with context.db.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Project)) == 0
    assert set(warehouses.glob("*.duckdb")) == files_before


def test_deleting_the_demo_project_deletes_its_warehouse(
    owner: TestClient, editor: TestClient, context: TriplContext
) -> None:
    kept = owner.post(
        "/api/v1/data-sources",
        json={"name": "Shared", "db_type": "duckdb", "host": "localhost", "database_name": "shared.duckdb"},
    )
    assert kept.status_code == 201, kept.text
    slug = editor.post("/api/v1/projects/demo").json()["slug"]
    warehouse = Path(context.settings.data_dir) / "warehouses" / f"{slug}.duckdb"
    assert warehouse.is_file()

    assert owner.delete(f"/api/v1/projects/{slug}").status_code == 204
    assert not warehouse.exists()
    assert [s["name"] for s in owner.get("/api/v1/data-sources").json()] == ["Shared"]
