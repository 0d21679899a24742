from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import UserClientFactory
from tests.observe.observe_support import create_source
from tests.plan.factories import make_event_type, make_working_branch

from tripl.core.context import TriplContext
from tripl.observe.scans.models import ScanConfig
from tripl.plan.event_types.models import EventType
from tripl.workspace.audit.models import AuditEntry

SCANS = "/api/v1/projects/shop/scans"
QUERY = "SELECT event_name, platform, payload, created_at, app_version FROM events"
RESPONSE_FIELDS = {
    "id",
    "data_source_id",
    "project_id",
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
    "created_at",
    "updated_at",
}


@pytest.fixture
def source(owner: TestClient, project: dict[str, Any]) -> dict[str, Any]:
    return create_source(owner, name="Warehouse")


def body(source: dict[str, Any], **values: Any) -> dict[str, Any]:
    return {"data_source_id": source["id"], "name": "events", "base_query": QUERY, **values}


def create(client: TestClient, source: dict[str, Any], **values: Any) -> dict[str, Any]:
    response = client.post(SCANS, json=body(source, **values))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_create_with_defaults_and_read_back(
    owner: TestClient, viewer: TestClient, source: dict[str, Any], project: dict[str, Any]
) -> None:
    created = create(owner, source)
    assert set(created) >= RESPONSE_FIELDS
    assert created["project_id"] == project["id"] and created["data_source_id"] == source["id"]
    assert created["json_value_paths"] == [] and created["event_group_rules"] == []
    assert created["metric_breakdown_columns"] == [] and created["distribution_drift_fields"] == []
    assert created["cardinality_threshold"] == 100
    assert created["interval"] is None and created["event_type_id"] is None
    assert viewer.get(SCANS).json() == [created]
    assert viewer.get(f"{SCANS}/{created['id']}").json() == created


def test_create_monitoring_config_with_every_setting(
    owner: TestClient, source: dict[str, Any], project: dict[str, Any], context: TriplContext
) -> None:
    event_type, _ = make_event_type(context, str(project["id"]), "screen")
    rules = [
        {
            "name": "  Checkout  ",
            "condition_logic": "any",
            "conditions": [{"field": " event_name ", "pattern": "^checkout_.*"}],
        },
        {"name": "Home", "conditions": [{"field": "platform", "pattern": "ios|android"}]},
    ]
    created = create(
        owner,
        source,
        event_type_id=str(event_type.id),
        event_type_column=None,
        time_column="created_at",
        interval="1h",
        replay_chunk_interval="1d",
        event_name_format="{event_name}",
        json_value_paths=[" payload.screen.name ", "payload.screen.name", "payload.kind"],
        event_group_rules=rules,
        metric_breakdown_columns=[" platform ", "platform", "country"],
        metric_breakdown_values_limit=10,
        distribution_drift_fields=["platform"],
        cardinality_threshold=50,
        scan_lookback_hours=24,
        scan_row_limit=1000,
        metrics_row_limit=2000,
        app_version_column="app_version",
        app_version_keep_releases=5,
    )
    assert created["event_type_id"] == str(event_type.id)
    assert created["json_value_paths"] == ["payload.screen.name", "payload.kind"]
    assert created["metric_breakdown_columns"] == ["platform", "country"]
    assert created["event_group_rules"] == [
        {
            "name": "Checkout",
            "condition_logic": "any",
            "conditions": [{"field": "event_name", "pattern": "^checkout_.*"}],
        },
        {
            "name": "Home",
            "condition_logic": "all",
            "conditions": [{"field": "platform", "pattern": "ios|android"}],
        },
    ]
    assert (created["interval"], created["replay_chunk_interval"]) == ("1h", "1d")
    assert (
        created["scan_row_limit"],
        created["metrics_row_limit"],
        created["app_version_keep_releases"],
    ) == (
        1000,
        2000,
        5,
    )


def test_names_are_unique_per_project(owner: TestClient, source: dict[str, Any]) -> None:
    first = create(owner, source, name="events")
    second = create(owner, source, name="other")
    assert owner.post(SCANS, json=body(source, name="events")).status_code == 409
    assert owner.patch(f"{SCANS}/{second['id']}", json={"name": "events"}).status_code == 409
    assert owner.patch(f"{SCANS}/{first['id']}", json={"name": "events"}).status_code == 200
    owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"})
    other = owner.post("/api/v1/projects/other/scans", json=body(source, name="events"))
    assert other.status_code == 201


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"base_query": ""}, "base_query"),
    ({"base_query": "DELETE FROM events"}, "base_query"),
    ({"base_query": "SELECT 1; SELECT 2"}, "base_query"),
    ({"base_query": "SELECT * FROM events -- all"}, "base_query"),
    ({"base_query": "DROP TABLE events"}, "base_query"),
    ({"data_source_id": str(uuid.uuid4())}, "data_source_id"),
    ({"data_source_id": "not-a-uuid"}, "data_source_id"),
    ({"event_type_id": str(uuid.uuid4())}, "event_type_id"),
    ({"interval": "1h"}, "interval"),
    ({"interval": "2h", "time_column": "created_at"}, "interval"),
    ({"replay_chunk_interval": "1d"}, "replay_chunk_interval"),
    ({"interval": "1d", "time_column": "created_at", "replay_chunk_interval": "1h"}, "replay_chunk_interval"),
    ({"json_value_paths": ["payload"]}, "json_value_paths"),
    ({"json_value_paths": ["payload."]}, "json_value_paths"),
    ({"json_value_paths": [".kind"]}, "json_value_paths"),
    ({"metric_breakdown_columns": ["payload.kind"]}, "metric_breakdown_columns"),
    ({"metric_breakdown_columns": [" "]}, "metric_breakdown_columns"),
    ({"metric_breakdown_columns": ["created_at"], "time_column": "created_at"}, "metric_breakdown_columns"),
    (
        {"metric_breakdown_columns": ["event_name"], "event_type_column": "event_name"},
        "metric_breakdown_columns",
    ),
    ({"distribution_drift_fields": ["v"], "app_version_column": "v"}, "distribution_drift_fields"),
    ({"distribution_drift_fields": ["a.b"]}, "distribution_drift_fields"),
    ({"event_group_rules": [{"name": "g", "conditions": []}]}, "event_group_rules"),
    (
        {"event_group_rules": [{"name": " ", "conditions": [{"field": "f", "pattern": "x"}]}]},
        "event_group_rules",
    ),
    (
        {"event_group_rules": [{"name": "g", "conditions": [{"field": "f", "pattern": "("}]}]},
        "event_group_rules",
    ),
    (
        {"event_group_rules": [{"name": "g", "conditions": [{"field": " ", "pattern": "x"}]}]},
        "event_group_rules",
    ),
    (
        {"event_group_rules": [{"name": "g", "conditions": [{"field": "f", "pattern": "x"}] * 21}]},
        "event_group_rules",
    ),
    (
        {
            "event_group_rules": [
                {"name": "g", "condition_logic": "most", "conditions": [{"field": "f", "pattern": "x"}]}
            ]
        },
        "event_group_rules",
    ),
    ({"cardinality_threshold": 0}, "cardinality_threshold"),
    ({"metric_breakdown_values_limit": 0}, "metric_breakdown_values_limit"),
    ({"scan_lookback_hours": 0}, "scan_lookback_hours"),
    ({"scan_row_limit": 0}, "scan_row_limit"),
    ({"metrics_row_limit": -1}, "metrics_row_limit"),
    ({"app_version_keep_releases": 0}, "app_version_keep_releases"),
    ({"event_name_format": "x" * 501}, "event_name_format"),
]


@pytest.mark.parametrize(("change", "field"), INVALID)
def test_invalid_configs_are_refused_naming_the_field(
    owner: TestClient, source: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    response = owner.post(SCANS, json=body(source, **change))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    assert owner.get(SCANS).json() == []


def test_interval_without_time_column_explains_why(owner: TestClient, source: dict[str, Any]) -> None:
    response = owner.post(SCANS, json=body(source, interval="1h"))
    assert response.status_code == 422
    assert "time_column" in response.json()["detail"][0]["msg"]
    assert "never collect metrics" in response.json()["detail"][0]["msg"]


def test_event_type_must_be_on_this_projects_main_branch(
    owner: TestClient, source: dict[str, Any], project: dict[str, Any], context: TriplContext
) -> None:
    owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"})
    other_project = owner.get("/api/v1/projects/other").json()
    foreign, _ = make_event_type(context, str(other_project["id"]), "screen")
    branch_id = make_working_branch(context, str(project["id"]))
    with context.db.transaction() as db:
        draft = EventType(project_id=uuid.UUID(str(project["id"])), branch_id=branch_id, name="draft")
        db.add(draft)
    for event_type_id in (foreign.id, draft.id):
        response = owner.post(SCANS, json=body(source, event_type_id=str(event_type_id)))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "event_type_id"]


def test_patch_applies_only_sent_fields(
    owner: TestClient, source: dict[str, Any], project: dict[str, Any], context: TriplContext
) -> None:
    event_type, _ = make_event_type(context, str(project["id"]), "screen")
    created = create(
        owner, source, time_column="created_at", interval="1h", metric_breakdown_columns=["platform"]
    )
    url = f"{SCANS}/{created['id']}"
    patched = owner.patch(url, json={"cardinality_threshold": 7, "event_type_id": str(event_type.id)})
    assert patched.status_code == 200, patched.text
    after = patched.json()
    assert after["cardinality_threshold"] == 7 and after["event_type_id"] == str(event_type.id)
    assert after["interval"] == "1h" and after["metric_breakdown_columns"] == ["platform"]

    cleared = owner.patch(url, json={"interval": None, "time_column": None, "event_type_id": None}).json()
    assert (cleared["interval"], cleared["time_column"], cleared["event_type_id"]) == (None, None, None)

    changed = owner.patch(url, json={"base_query": "SELECT a FROM t", "name": "renamed"}).json()
    assert (changed["base_query"], changed["name"]) == ("SELECT a FROM t", "renamed")
    assert owner.get(url).json() == changed


def test_patch_is_judged_on_the_merged_config(owner: TestClient, source: dict[str, Any]) -> None:
    created = create(
        owner, source, time_column="created_at", interval="1h", metric_breakdown_columns=["platform"]
    )
    url = f"{SCANS}/{created['id']}"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"time_column": None}, "interval"),
        ({"time_column": "platform"}, "metric_breakdown_columns"),
        ({"replay_chunk_interval": "15m"}, "replay_chunk_interval"),
        ({"interval": None, "replay_chunk_interval": "1d"}, "replay_chunk_interval"),
        ({"base_query": "UPDATE events SET x = 1"}, "base_query"),
        ({"event_type_id": str(uuid.uuid4())}, "event_type_id"),
    ]
    for change, field in cases:
        response = owner.patch(url, json=change)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["detail"][0]["loc"][:2] == ["body", field], change
    assert owner.get(url).json() == created


@pytest.mark.parametrize(
    "field",
    [
        "name",
        "base_query",
        "json_value_paths",
        "event_group_rules",
        "metric_breakdown_columns",
        "distribution_drift_fields",
        "cardinality_threshold",
    ],
)
def test_patch_refuses_null_on_required_fields(owner: TestClient, source: dict[str, Any], field: str) -> None:
    created = create(owner, source)
    response = owner.patch(f"{SCANS}/{created['id']}", json={field: None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]


def test_delete(owner: TestClient, source: dict[str, Any], context: TriplContext) -> None:
    created = create(owner, source)
    assert owner.delete(f"{SCANS}/{created['id']}").status_code == 204
    assert owner.get(f"{SCANS}/{created['id']}").status_code == 404
    with context.db.sessions() as db:
        assert db.scalar(select(ScanConfig.id)) is None
    assert owner.delete(f"{SCANS}/{created['id']}").status_code == 404


def test_configs_are_fenced_by_project(owner: TestClient, source: dict[str, Any]) -> None:
    created = create(owner, source)
    owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"})
    other = f"/api/v1/projects/other/scans/{created['id']}"
    assert owner.get(other).status_code == 404
    assert owner.patch(other, json={"name": "x"}).status_code == 404
    assert owner.delete(other).status_code == 404
    assert owner.get("/api/v1/projects/other/scans").json() == []
    assert owner.get(f"/api/v1/projects/missing/scans/{created['id']}").status_code == 404


def test_writes_are_owner_only(
    owner: TestClient,
    editor: TestClient,
    viewer: TestClient,
    key_client: UserClientFactory,
    source: dict[str, Any],
) -> None:
    created = create(owner, source)
    url = f"{SCANS}/{created['id']}"
    for client in (editor, viewer, key_client("owner", "read")):
        assert client.post(SCANS, json=body(source, name="new")).status_code == 403
        assert client.patch(url, json={"name": "x"}).status_code == 403
        assert client.delete(url).status_code == 403
        assert client.get(url).status_code == 200
        assert client.get(SCANS).status_code == 200
    bound_elsewhere = key_client("owner", "write", project_slug="shop")
    assert bound_elsewhere.get(SCANS).status_code == 200
    assert bound_elsewhere.post(SCANS, json=body(source, name="by key")).status_code == 201
    owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"})
    assert bound_elsewhere.get("/api/v1/projects/other/scans").status_code == 403


def test_writes_are_audited(owner: TestClient, source: dict[str, Any], context: TriplContext) -> None:
    created = create(owner, source)
    owner.patch(f"{SCANS}/{created['id']}", json={"name": "renamed"})
    owner.delete(f"{SCANS}/{created['id']}")
    with context.db.sessions() as db:
        rows = list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.target_type == "scan_config")
                .order_by(AuditEntry.created_at)
            )
        )
    assert [r.action for r in rows] == ["scan_config.create", "scan_config.update", "scan_config.delete"]
    assert all(r.project_slug == "shop" for r in rows)
    assert rows[1].payload["changes"] == {"name": "renamed"}
