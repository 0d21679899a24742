from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.plan.event_support import (
    EVENTS,
    Plan,
    audit_actions,
    create,
    listed,
    make_plan,
    names,
    screen_body,
)
from tests.plan.factories import make_event, make_event_type
from tripl.core.context import TriplContext
from tripl.plan.events.models import Event


@pytest.fixture
def plan(context: TriplContext, project: dict[str, Any]) -> Plan:
    return make_plan(context, project)


def make_events(editor: TestClient, plan: Plan, *labels: str) -> dict[str, str]:
    return {label: create(editor, screen_body(plan, label))["id"] for label in labels}


def move(editor: TestClient, event_id: str, direction: str, visible: list[str] | None = None) -> Any:
    body: dict[str, Any] = {"direction": direction}
    if visible is not None:
        body["visible_event_ids"] = visible
    return editor.patch(f"{EVENTS}/{event_id}/move", json=body)


def test_new_events_append_to_the_end(plan: Plan, editor: TestClient) -> None:
    make_events(editor, plan, "A", "B")
    created = create(editor, {"event_type_id": str(plan.click.id), "name": "C"})
    assert created["order"] == 2
    assert [e["order"] for e in listed(editor)["items"]] == [0, 1, 2]


def test_move_swaps_with_the_neighbour_and_stops_at_the_ends(
    plan: Plan, editor: TestClient, owner: TestClient
) -> None:
    ids = make_events(editor, plan, "A", "B", "C")
    response = move(editor, ids["C"], "up")
    assert response.status_code == 200 and response.json()["order"] == 1 and response.json()["name"] == "C"
    assert names(editor) == ["A", "C", "B"]
    assert move(editor, ids["A"], "down").status_code == 200
    assert names(editor) == ["C", "A", "B"]

    top = move(editor, ids["C"], "up")
    assert top.status_code == 200 and top.json()["order"] == 0
    assert move(editor, ids["B"], "down").status_code == 200
    assert names(editor) == ["C", "A", "B"]
    assert move(editor, ids["B"], "sideways").status_code == 422
    assert "event.move" in audit_actions(owner)


def test_move_within_the_visible_list(plan: Plan, editor: TestClient) -> None:
    ids = make_events(editor, plan, "A", "B", "C", "D")
    visible = [ids["A"], ids["C"], ids["D"]]  # the user filtered B away
    assert move(editor, ids["C"], "up", visible).status_code == 200
    assert names(editor) == ["C", "B", "A", "D"]  # C took A's slot, B never moved
    # The list is taken in its real order, whatever sequence the client sent.
    assert move(editor, ids["A"], "down", [ids["D"], ids["A"], ids["C"]]).status_code == 200
    assert names(editor) == ["C", "B", "D", "A"]
    assert move(editor, ids["A"], "down", [ids["A"], ids["D"]]).status_code == 200  # at the end: no-op
    assert names(editor) == ["C", "B", "D", "A"]

    missing = move(editor, ids["B"], "up", [ids["A"], ids["C"]])
    assert missing.status_code == 400 and "visible_event_ids" in missing.json()["detail"]
    assert move(editor, ids["A"], "up", []).status_code == 400


def test_move_between_events_sharing_a_slot(plan: Plan, editor: TestClient, context: TriplContext) -> None:
    make_event(context, plan.screen, "Old", order=0)
    newer = make_event(context, plan.screen, "New", order=0)
    make_event(context, plan.screen, "Next", order=1)
    assert names(editor) == ["New", "Old", "Next"]
    assert move(editor, str(newer.id), "down").status_code == 200
    assert names(editor) == ["Old", "New", "Next"]
    assert sorted(e["order"] for e in listed(editor)["items"]) == [0, 1, 2]


def test_reorder_hands_out_the_selection_s_own_slots(
    plan: Plan, editor: TestClient, owner: TestClient
) -> None:
    ids = make_events(editor, plan, "A", "B", "C", "D")
    response = editor.patch(f"{EVENTS}/reorder", json={"event_ids": [ids["D"], ids["A"], ids["C"]]})
    assert response.status_code == 200, response.text
    assert [(e["name"], e["order"]) for e in response.json()] == [("D", 0), ("A", 2), ("C", 3)]
    assert "event_type" in response.json()[0]
    assert names(editor) == ["D", "B", "A", "C"]
    assert "event.reorder" in audit_actions(owner)


def test_reorder_refuses_foreign_repeated_or_no_ids(
    plan: Plan, editor: TestClient, owner: TestClient, context: TriplContext
) -> None:
    ids = make_events(editor, plan, "A", "B")
    other = owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"}).json()
    foreign = make_event(context, make_event_type(context, other["id"], "t")[0], "Foreign")
    for event_ids, status in (
        ([ids["B"], str(foreign.id)], 400),
        ([ids["B"], str(uuid.uuid4())], 400),
        ([ids["B"], ids["B"]], 422),
        ([], 422),
    ):
        response = editor.patch(f"{EVENTS}/reorder", json={"event_ids": event_ids})
        assert response.status_code == status, (event_ids, response.text)
    assert names(editor) == ["A", "B"]


def test_bulk_create_is_consecutive_and_all_or_nothing(
    plan: Plan, editor: TestClient, owner: TestClient, context: TriplContext
) -> None:
    make_events(editor, plan, "First")
    bodies = [screen_body(plan, "A"), {"event_type_id": str(plan.click.id), "name": "B", "tags": ["X"]}]
    response = editor.post(f"{EVENTS}/bulk", json=bodies)
    assert response.status_code == 201, response.text
    assert [(e["name"], e["order"], e["event_type"]["name"]) for e in response.json()] == [
        ("A", 1, "screen"),
        ("B", 2, "click"),
    ]
    assert response.json()[1]["tags"][0]["name"] == "x"
    assert "event.bulk_create" in audit_actions(owner)

    invalid = editor.post(
        f"{EVENTS}/bulk", json=[screen_body(plan, "C"), {"event_type_id": str(plan.screen.id), "name": "D"}]
    )
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"][:2] == ["body", 1]
    twice = editor.post(f"{EVENTS}/bulk", json=[screen_body(plan, "E"), screen_body(plan, "E")])
    assert twice.status_code == 409
    existing = editor.post(f"{EVENTS}/bulk", json=[screen_body(plan, "F"), screen_body(plan, "A")])
    assert existing.status_code == 409
    unknown_type = editor.post(
        f"{EVENTS}/bulk", json=[screen_body(plan, "G"), {"event_type_id": str(uuid.uuid4()), "name": "H"}]
    )
    assert unknown_type.status_code == 404
    with context.db.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Event)) == 3
    assert editor.post(f"{EVENTS}/bulk", json=[]).json() == []


def test_bulk_update_changes_the_allowed_attributes_of_all_or_none(
    plan: Plan, editor: TestClient, owner: TestClient
) -> None:
    ids = make_events(editor, plan, "A", "B", "C")
    me = owner.get("/api/v1/auth/me").json()
    url = f"{EVENTS}/bulk-update"
    body = {
        "event_ids": [ids["A"], ids["B"]],
        "status": "live",
        "reviewed": True,
        "owner_id": me["id"],
        "sunset_at": "2031-05-01T00:00:00Z",
    }
    response = editor.post(url, json=body)
    assert response.status_code == 204 and response.content == b""
    rows = {e["name"]: e for e in listed(editor)["items"]}
    for name in ("A", "B"):
        assert rows[name]["status"] == "live" and rows[name]["reviewed"] is True
        assert rows[name]["owner_id"] == me["id"] and rows[name]["sunset_at"].startswith("2031-05-01")
    assert rows["C"]["status"] == "draft" and rows["C"]["owner_id"] is None
    assert "event.bulk_update" in audit_actions(owner)

    # Null or absent attributes are left alone.
    assert (
        editor.post(
            url, json={"event_ids": [ids["A"]], "status": "deprecated", "sunset_at": None}
        ).status_code
        == 204
    )
    assert editor.get(f"{EVENTS}/{ids['A']}").json()["sunset_at"].startswith("2031-05-01")

    assert editor.post(url, json={"event_ids": [ids["A"]]}).status_code == 422
    assert editor.post(url, json={"event_ids": [], "status": "live"}).status_code == 422
    assert editor.post(url, json={"event_ids": [ids["C"]], "owner_id": str(uuid.uuid4())}).status_code == 422
    missing = editor.post(url, json={"event_ids": [ids["C"], str(uuid.uuid4())], "status": "archived"})
    assert missing.status_code == 404
    assert editor.get(f"{EVENTS}/{ids['C']}").json()["status"] == "draft"


def test_bulk_delete_all_or_nothing(plan: Plan, editor: TestClient, owner: TestClient) -> None:
    ids = make_events(editor, plan, "A", "B", "C")
    url = f"{EVENTS}/bulk-delete"
    missing = editor.post(url, json={"event_ids": [ids["A"], str(uuid.uuid4())]})
    assert missing.status_code == 404 and names(editor) == ["A", "B", "C"]
    assert editor.post(url, json={"event_ids": []}).status_code == 422
    response = editor.post(url, json={"event_ids": [ids["A"], ids["C"]]})
    assert response.status_code == 204 and response.content == b""
    assert names(editor) == ["B"]
    assert "event.bulk_delete" in audit_actions(owner)
