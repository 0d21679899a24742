from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.plan.event_support import EVENTS, Plan, create, make_plan, screen_body
from tripl.core.context import TriplContext


@pytest.fixture
def plan(context: TriplContext, project: dict[str, Any]) -> Plan:
    return make_plan(context, project)


def history(client: TestClient, event_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{EVENTS}/{event_id}/history")
    assert response.status_code == 200, response.text
    return list(response.json())


def changes(rows: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    return [(r["field"], r["old_value"], r["new_value"]) for r in rows]


def test_create_then_every_changed_attribute_newest_first(
    plan: Plan, editor: TestClient, viewer: TestClient
) -> None:
    me = editor.get("/api/v1/auth/me").json()
    event = create(editor, screen_body(plan, "Home", tags=["b"]))
    first = history(viewer, event["id"])
    assert changes(first) == [("created", None, "Home")]
    assert first[0]["user_id"] == me["id"] and first[0]["user_email"] == "editor@example.com"
    assert first[0]["event_id"] == event["id"]

    response = editor.patch(
        f"{EVENTS}/{event['id']}",
        json={
            "name": "Home screen",
            "description": "Start",
            "status": "live",
            "sunset_at": "2030-01-01T00:00:00Z",
            "reviewed": True,  # not a tracked attribute
            "tags": ["b", "a"],
            "field_values": [
                {"field_definition_id": str(plan.screen_name.id), "value": "start"},
                {"field_definition_id": str(plan.platform.id), "value": "ios"},
            ],
            "meta_values": [{"meta_field_definition_id": str(plan.jira.id), "value": "SHOP-9"}],
        },
    )
    assert response.status_code == 200, response.text
    rows = history(viewer, event["id"])
    assert changes(rows) == [
        ("description", "", "Start"),
        ("field:platform", None, "ios"),
        ("field:screen_name", "home", "start"),
        ("meta:jira", None, "SHOP-9"),
        ("name", "Home", "Home screen"),
        ("status", "draft", "live"),
        ("sunset_at", None, "2030-01-01T00:00:00+00:00"),
        ("tags", "b", "a, b"),
        ("created", None, "Home"),
    ]
    assert len({r["created_at"] for r in rows[:-1]}) == 1 and rows[0]["created_at"] > rows[-1]["created_at"]

    # Sending the same values again changes nothing and writes nothing.
    same = editor.patch(
        f"{EVENTS}/{event['id']}",
        json={
            "name": "Home screen",
            "tags": ["a", "b"],
            "meta_values": [{"meta_field_definition_id": str(plan.jira.id), "value": "SHOP-9"}],
        },
    )
    assert same.status_code == 200 and len(history(viewer, event["id"])) == 9

    cleared = editor.patch(
        f"{EVENTS}/{event['id']}",
        json={
            "tags": [],
            "meta_values": [],
            "sunset_at": None,
            "field_values": [{"field_definition_id": str(plan.screen_name.id), "value": "start"}],
        },
    )
    assert cleared.status_code == 200
    assert changes(history(viewer, event["id"]))[:4] == [
        ("field:platform", "ios", None),
        ("meta:jira", "SHOP-9", None),
        ("sunset_at", "2030-01-01T00:00:00+00:00", None),
        ("tags", "a, b", None),
    ]


def test_bulk_update_writes_history_for_each_event(plan: Plan, editor: TestClient) -> None:
    a = create(editor, screen_body(plan, "A"))
    b = create(editor, screen_body(plan, "B", status="live"))
    response = editor.post(f"{EVENTS}/bulk-update", json={"event_ids": [a["id"], b["id"]], "status": "live"})
    assert response.status_code == 204
    assert changes(history(editor, a["id"]))[0] == ("status", "draft", "live")
    assert changes(history(editor, b["id"])) == [("created", None, "B")]  # already live: no change


def test_history_of_a_deleted_or_foreign_event_is_not_found(plan: Plan, editor: TestClient) -> None:
    event = create(editor, screen_body(plan, "A"))
    assert editor.delete(f"{EVENTS}/{event['id']}").status_code == 204
    assert editor.get(f"{EVENTS}/{event['id']}/history").status_code == 404
