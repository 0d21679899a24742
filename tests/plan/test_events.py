from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import UserClientFactory
from tests.plan.event_support import EVENTS, Plan, audit_actions, create, make_plan, screen_body
from tests.plan.factories import make_event, make_event_type, make_meta_field, make_working_branch
from tests.plan.photo_support import count_photos, stored_path, uploaded
from tripl.core.context import TriplContext
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventFieldValue, EventTag


@pytest.fixture
def plan(context: TriplContext, project: dict[str, Any]) -> Plan:
    return make_plan(context, project)


def count(context: TriplContext, model: Any) -> int:
    with context.db.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_create_event_answers_the_full_event(plan: Plan, editor: TestClient, owner: TestClient) -> None:
    me = owner.get("/api/v1/auth/me").json()
    body = screen_body(
        plan,
        "  Home viewed ",
        description="The home screen",
        status="in_review",
        sunset_at="2030-01-01T10:00:00",
        owner_id=me["id"],
        reviewed=True,
        metric_breakdown_columns=[" platform ", "", "platform", "country"],
        tags=[" Checkout", "checkout", "PAYMENTS", "  "],
        field_values=[
            {"field_definition_id": str(plan.screen_name.id), "value": "home"},
            {"field_definition_id": str(plan.platform.id), "value": "${platform}"},
        ],
        meta_values=[{"meta_field_definition_id": str(plan.jira.id), "value": "SHOP-1"}],
    )
    event = create(editor, body)
    assert event["name"] == "Home viewed" and event["source_name"] == "Home viewed"
    assert event["event_type"] == {
        "id": str(plan.screen.id),
        "name": "screen",
        "display_name": "screen",
        "color": "#6366f1",
    }
    assert event["status"] == "in_review" and event["reviewed"] is True and event["owner_id"] == me["id"]
    assert event["sunset_at"].startswith("2030-01-01T10:00:00") and event["sunset_at"].endswith(
        ("Z", "+00:00")
    )
    assert event["metric_breakdown_columns"] == ["platform", "country"]
    assert [t["name"] for t in event["tags"]] == ["checkout", "payments"]
    assert all(uuid.UUID(t["id"]) for t in event["tags"])
    assert [(v["field_definition_id"], v["value"]) for v in event["field_values"]] == [
        (str(plan.screen_name.id), "home"),
        (str(plan.platform.id), "${platform}"),
    ]
    assert (
        event["field_values"][0]["variable_values"] == [] and event["field_values"][0]["is_authored"] is True
    )
    assert [(m["meta_field_definition_id"], m["value"]) for m in event["meta_values"]] == [
        (str(plan.jira.id), "SHOP-1")
    ]
    assert event["drift_count"] == 0 and event["last_seen_at"] is None and event["order"] == 0

    again = editor.get(f"{EVENTS}/{event['id']}")
    assert again.status_code == 200 and again.json() == event
    assert "event.create" in audit_actions(owner)


def test_create_refuses_bad_references_and_writes_nothing(
    plan: Plan, editor: TestClient, context: TriplContext, owner: TestClient
) -> None:
    other = owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"}).json()
    foreign_type, (foreign_field,) = make_event_type(
        context, other["id"], "screen", [{"name": "screen_name"}]
    )
    foreign_meta = make_meta_field(context, other["id"], "jira")
    field = str(plan.screen_name.id)

    def refused(body: dict[str, Any], status: int) -> Any:
        response = editor.post(EVENTS, json=body)
        assert response.status_code == status, response.text
        return response.json()["detail"]

    missing = refused({"event_type_id": str(plan.screen.id), "name": "a"}, 422)
    assert "screen_name" in missing[0]["msg"]
    refused(screen_body(plan, "a", screen="   "), 422)
    wrong_field = refused(
        screen_body(
            plan,
            "a",
            field_values=[
                {"field_definition_id": field, "value": "x"},
                {"field_definition_id": str(plan.button.id), "value": "x"},
            ],
        ),
        422,
    )
    assert wrong_field[0]["loc"] == ["body", "field_values", 1, "field_definition_id"]
    refused(
        screen_body(
            plan,
            "a",
            field_values=[
                {"field_definition_id": field, "value": "x"},
                {"field_definition_id": field, "value": "y"},
            ],
        ),
        422,
    )
    foreign_meta_body = screen_body(
        plan, "a", meta_values=[{"meta_field_definition_id": str(foreign_meta.id), "value": "x"}]
    )
    assert refused(foreign_meta_body, 422)[0]["loc"] == ["body", "meta_values", 0, "meta_field_definition_id"]
    assert (
        refused({**screen_body(plan, "a"), "event_type_id": str(foreign_type.id)}, 404)
        == "Event type not found"
    )
    assert (
        refused({**screen_body(plan, "a"), "event_type_id": str(uuid.uuid4())}, 404) == "Event type not found"
    )
    other_field = [{"field_definition_id": str(foreign_field.id), "value": "x"}]
    refused(screen_body(plan, "a", field_values=other_field), 422)
    refused(screen_body(plan, "a", owner_id=str(uuid.uuid4())), 422)
    refused(screen_body(plan, "a", tags=["x" * 101]), 422)
    refused(screen_body(plan, "a", metric_breakdown_columns=["payload.price"]), 422)
    refused(screen_body(plan, "   "), 422)
    refused(screen_body(plan, "x" * 501), 422)
    refused(screen_body(plan, "a", status="shipped"), 422)
    refused(
        screen_body(plan, "a", field_values=[{"field_definition_id": field, "value": "x" * 100_001}]), 422
    )
    assert count(context, Event) == 0 and count(context, EventFieldValue) == 0

    create(editor, screen_body(plan, "Home viewed", tags=["x" * 100]))
    duplicate = editor.post(EVENTS, json=screen_body(plan, "Home viewed"))
    assert duplicate.status_code == 409 and "already exists" in duplicate.json()["detail"]
    # Same name in another type is a different event.
    create(editor, {"event_type_id": str(plan.click.id), "name": "Home viewed"})
    assert count(context, Event) == 2


def test_update_applies_given_keys_and_replaces_lists(
    plan: Plan, editor: TestClient, owner: TestClient
) -> None:
    created = create(
        editor,
        screen_body(
            plan,
            "Home",
            description="old",
            tags=["a", "b"],
            sunset_at="2030-01-01T00:00:00Z",
            field_values=[
                {"field_definition_id": str(plan.screen_name.id), "value": "home"},
                {"field_definition_id": str(plan.platform.id), "value": "ios"},
            ],
            meta_values=[{"meta_field_definition_id": str(plan.jira.id), "value": "SHOP-1"}],
        ),
    )
    url = f"{EVENTS}/{created['id']}"
    kept_value_id = created["field_values"][0]["id"]

    response = editor.patch(
        url,
        json={
            "status": "live",
            "description": None,
            "sunset_at": None,
            "tags": ["B", "c"],
            "field_values": [{"field_definition_id": str(plan.screen_name.id), "value": "home"}],
            "meta_values": [],
        },
    )
    assert response.status_code == 200, response.text
    event = response.json()
    assert event["name"] == "Home" and event["status"] == "live" and event["description"] == ""
    assert event["sunset_at"] is None
    assert [t["name"] for t in event["tags"]] == ["b", "c"]
    assert [v["value"] for v in event["field_values"]] == ["home"]
    assert event["field_values"][0]["id"] == kept_value_id  # unchanged values keep their row
    assert event["meta_values"] == []
    assert event["updated_at"] > created["updated_at"]
    assert event["event_type_id"] == created["event_type_id"] and event["order"] == created["order"]

    renamed = editor.patch(
        url, json={"name": "Home screen", "reviewed": True, "metric_breakdown_columns": ["os"]}
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Home screen" and renamed.json()["source_name"] == "Home"
    assert renamed.json()["reviewed"] is True and renamed.json()["metric_breakdown_columns"] == ["os"]
    assert "event.update" in audit_actions(owner)


def test_update_refuses_bad_input_and_changes_nothing(plan: Plan, editor: TestClient) -> None:
    event = create(editor, screen_body(plan, "Home", tags=["a"]))
    create(editor, screen_body(plan, "Settings"))
    url = f"{EVENTS}/{event['id']}"

    for body in (
        {"event_type_id": str(plan.click.id)},
        {"name": None},
        {"status": None},
        {"tags": None},
        {"field_values": None},
        {"reviewed": None},
        {"name": ""},
        {"tags": ["ok"], "field_values": []},  # the required screen_name would be gone
        {"tags": ["ok"], "owner_id": str(uuid.uuid4())},
        {"tags": ["ok"], "meta_values": [{"meta_field_definition_id": str(uuid.uuid4()), "value": "x"}]},
    ):
        response = editor.patch(url, json=body)
        assert response.status_code == 422, (body, response.text)
    conflict = editor.patch(url, json={"name": "Settings", "tags": ["ok"]})
    assert conflict.status_code == 409
    after = editor.get(url).json()
    assert after["name"] == "Home" and [t["name"] for t in after["tags"]] == ["a"]
    assert after["updated_at"] == event["updated_at"]
    assert editor.patch(url, json={"name": "Home"}).status_code == 200  # its own name is no conflict


def test_delete_removes_the_event_and_its_children(
    plan: Plan, editor: TestClient, owner: TestClient, context: TriplContext
) -> None:
    event = create(editor, screen_body(plan, "Home", tags=["a"]))
    url = f"{EVENTS}/{event['id']}"
    response = editor.delete(url)
    assert response.status_code == 204 and response.content == b""
    assert editor.get(url).status_code == 404
    assert editor.delete(url).status_code == 404
    assert count(context, EventFieldValue) == 0 and count(context, EventTag) == 0
    assert "event.delete" in audit_actions(owner)


def test_readers_read_and_only_editors_write(
    plan: Plan,
    editor: TestClient,
    viewer: TestClient,
    key_client: UserClientFactory,
    client: TestClient,
) -> None:
    event = create(editor, screen_body(plan, "Home"))
    url = f"{EVENTS}/{event['id']}"
    read_key = key_client("editor", "read")
    for reader in (viewer, read_key):
        assert reader.get(EVENTS).status_code == 200
        assert reader.get(url).status_code == 200
        assert reader.get(f"{url}/history").status_code == 200
        assert reader.get(f"{EVENTS}/tags").status_code == 200
        attempts = [
            reader.post(EVENTS, json=screen_body(plan, "New")),
            reader.post(f"{EVENTS}/bulk", json=[screen_body(plan, "New")]),
            reader.patch(url, json={"name": "x"}),
            reader.patch(f"{url}/move", json={"direction": "up"}),
            reader.patch(f"{EVENTS}/reorder", json={"event_ids": [event["id"]]}),
            reader.post(f"{EVENTS}/bulk-update", json={"event_ids": [event["id"]], "status": "live"}),
            reader.post(f"{EVENTS}/bulk-delete", json={"event_ids": [event["id"]]}),
            reader.delete(url),
        ]
        assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert client.get(EVENTS).status_code == 401

    write_key = key_client("editor", "write", project_slug="shop")
    assert write_key.patch(url, json={"name": "By script"}).status_code == 200
    assert (
        key_client("editor", "write", project_slug="shop").get("/api/v1/projects/other/events").status_code
        == 403
    )


def test_ids_of_other_projects_and_branches_are_not_found(
    plan: Plan, editor: TestClient, owner: TestClient, context: TriplContext, project: dict[str, Any]
) -> None:
    other = owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"}).json()
    foreign_type, _ = make_event_type(context, other["id"], "screen")
    foreign = make_event(context, foreign_type, "Foreign")
    url = f"{EVENTS}/{foreign.id}"
    assert editor.get(url).status_code == 404
    assert editor.get(f"{url}/history").status_code == 404
    assert editor.patch(url, json={"name": "x"}).status_code == 404
    assert editor.patch(f"{url}/move", json={"direction": "up"}).status_code == 404
    assert editor.delete(url).status_code == 404
    assert editor.get(f"{EVENTS}/not-a-uuid").status_code == 422
    assert editor.get("/api/v1/projects/nope/events").status_code == 404

    branch_id = make_working_branch(context, project["id"])
    with context.db.transaction() as db:
        branch_type = EventType(project_id=plan.screen.project_id, branch_id=branch_id, name="screen")
        db.add(branch_type)
    drafted = make_event(context, branch_type, "Drafted")
    assert editor.get(f"{EVENTS}/{drafted.id}").status_code == 404
    on_branch = editor.get(f"{EVENTS}/{drafted.id}", params={"branch": str(branch_id)})
    assert on_branch.status_code == 200 and on_branch.json()["name"] == "Drafted"
    # A type of main cannot be used on the branch (and the other way round).
    refused = editor.post(EVENTS, params={"branch": str(branch_id)}, json=screen_body(plan, "x"))
    assert refused.status_code == 404
    assert editor.get(EVENTS, params={"branch": "nope"}).status_code == 400
    assert editor.get(EVENTS, params={"branch": str(uuid.uuid4())}).status_code == 404


def test_deleting_events_deletes_their_photo_files(
    plan: Plan, editor: TestClient, context: TriplContext
) -> None:
    single = make_event(context, plan.click, "Single")
    first, second = make_event(context, plan.click, "First"), make_event(context, plan.click, "Second")
    files = [stored_path(context, uploaded(editor, e)) for e in (single, first, second)]
    assert all(f.exists() for f in files)

    assert editor.delete(f"{EVENTS}/{single.id}").status_code == 204
    assert not files[0].exists() and files[1].exists()
    refused = editor.post(f"{EVENTS}/bulk-delete", json={"event_ids": [str(first.id), str(uuid.uuid4())]})
    assert refused.status_code == 404 and files[1].exists()  # nothing deleted, files kept
    response = editor.post(f"{EVENTS}/bulk-delete", json={"event_ids": [str(first.id), str(second.id)]})
    assert response.status_code == 204
    assert not files[1].exists() and not files[2].exists()
    assert count_photos(context) == 0
