from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import UserClientFactory
from tests.plan.factories import make_event, make_event_type, make_working_branch
from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.data_sources.models import DataSource
from tripl.observe.scans.models import ScanConfig, ScanJob, ScanJobKind, ScanJobStatus
from tripl.observe.warehouse.base import DBType
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import EventStatus

ACTIVITY = "/api/v1/activity"


def new_project(owner: TestClient, slug: str) -> dict[str, Any]:
    response = owner.post("/api/v1/projects", json={"name": slug.title(), "slug": slug})
    assert response.status_code == 201
    return dict(response.json())


def test_workspace_feed_spans_projects_newest_first(
    owner: TestClient, viewer: TestClient, context: TriplContext
) -> None:
    shop, blog = new_project(owner, "shop"), new_project(owner, "blog")
    now = utcnow()
    shop_type, _ = make_event_type(context, shop["id"], "screen")
    blog_type, _ = make_event_type(context, blog["id"], "post")
    old = make_event(
        context, shop_type, "Old", created_at=now - timedelta(days=3), updated_at=now - timedelta(days=2)
    )
    new = make_event(context, blog_type, "Fresh", status=EventStatus.live, created_at=now, updated_at=now)
    mid = make_event(
        context, shop_type, "Mid", created_at=now - timedelta(hours=1), updated_at=now - timedelta(hours=1)
    )

    response = viewer.get(ACTIVITY)
    assert response.status_code == 200, response.text
    items = response.json()
    assert [i["title"] for i in items] == ["Event created: Fresh", "Event created: Mid", "Event updated: Old"]
    first = items[0]
    assert first == {
        "id": f"event:{new.id}",
        "project_id": blog["id"],
        "project_slug": "blog",
        "project_name": "Blog",
        "type": "event",
        "severity": "low",
        "title": "Event created: Fresh",
        "detail": "post · live",
        "target_path": f"/projects/blog/events/{new.id}",
        "occurred_at": first["occurred_at"],
    }
    assert (
        items[1]["id"] == f"event:{mid.id}" and items[2]["target_path"] == f"/projects/shop/events/{old.id}"
    )
    assert [i["title"] for i in viewer.get(ACTIVITY, params={"limit": 2}).json()] == [
        "Event created: Fresh",
        "Event created: Mid",
    ]
    for bad in (0, 101):
        assert viewer.get(ACTIVITY, params={"limit": bad}).status_code == 422


def test_project_feed_shows_only_that_project_s_main_plan(
    owner: TestClient, editor: TestClient, context: TriplContext
) -> None:
    shop, blog = new_project(owner, "shop"), new_project(owner, "blog")
    shop_type, _ = make_event_type(context, shop["id"], "screen")
    blog_type, _ = make_event_type(context, blog["id"], "post")
    make_event(context, blog_type, "Elsewhere")
    created = editor.post(
        "/api/v1/projects/shop/events", json={"event_type_id": str(shop_type.id), "name": "Home"}
    )
    assert created.status_code == 201
    branch_id = make_working_branch(context, shop["id"])
    with context.db.transaction() as db:
        draft_type = EventType(project_id=shop_type.project_id, branch_id=branch_id, name="screen")
        db.add(draft_type)
    make_event(context, draft_type, "Draft on a branch")

    items = editor.get(f"{ACTIVITY}/projects/shop").json()
    assert [(i["title"], i["project_slug"]) for i in items] == [("Event created: Home", "shop")]
    assert "Draft on a branch" not in str(editor.get(ACTIVITY).json())

    editor.patch(f"/api/v1/projects/shop/events/{created.json()['id']}", json={"status": "live"})
    assert editor.get(f"{ACTIVITY}/projects/shop").json()[0]["title"] == "Event updated: Home"
    assert editor.get(f"{ACTIVITY}/projects/nope").status_code == 404


def test_activity_needs_a_session_and_respects_project_bound_keys(
    client: TestClient, owner: TestClient, key_client: UserClientFactory
) -> None:
    new_project(owner, "shop")
    new_project(owner, "blog")
    assert client.get(ACTIVITY).status_code == 401
    bound = key_client("viewer", "read", project_slug="shop")
    assert bound.get(ACTIVITY).status_code == 403
    assert bound.get(f"{ACTIVITY}/projects/shop").status_code == 200
    assert bound.get(f"{ACTIVITY}/projects/blog").status_code == 403
    assert key_client("viewer", "read").get(ACTIVITY).json() == []


def test_scan_jobs_join_the_feed_with_their_outcome(
    owner: TestClient, viewer: TestClient, context: TriplContext
) -> None:
    shop = new_project(owner, "shop")
    now = utcnow()
    with context.db.transaction() as db:
        source = DataSource(name="wh", db_type=DBType.duckdb, host="local", port=0, database_name="wh.duckdb")
        db.add(source)
        db.flush()
        config = ScanConfig(
            project_id=uuid.UUID(shop["id"]), data_source_id=source.id, name="Events", base_query="SELECT 1"
        )
        db.add(config)
        db.flush()
        done = ScanJob(
            scan_config_id=config.id,
            kind=ScanJobKind.catalog,
            status=ScanJobStatus.completed,
            created_at=now - timedelta(hours=3),
            completed_at=now - timedelta(hours=2),
            result_summary={"events_created": 12, "variables_created": 3, "events_skipped": 40},
        )
        failed = ScanJob(
            scan_config_id=config.id,
            kind=ScanJobKind.collect,
            status=ScanJobStatus.failed,
            created_at=now - timedelta(minutes=5),
            completed_at=now - timedelta(minutes=4),
            error_message="Scan failed: could not reach wh:5432",
        )
        db.add_all([done, failed])

    items = viewer.get(f"{ACTIVITY}/projects/shop").json()
    assert [(i["title"], i["severity"], i["detail"]) for i in items] == [
        ("Scan failed: Events", "high", "Scan failed: could not reach wh:5432"),
        ("Scan completed: Events", "low", "12 new events, 3 new variables"),
    ]
    assert items[0]["type"] == "scan" and items[0]["target_path"] == f"/projects/shop/scans/{config.id}"
