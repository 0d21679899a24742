from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.plan.event_support import (
    EVENTS,
    Plan,
    count_statements,
    create,
    listed,
    make_plan,
    names,
    screen_body,
)
from tests.plan.factories import make_event, make_variable_context, make_working_branch
from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventFieldValue, EventMetaValue, EventStatus, EventTag
from tripl.plan.events.schemas import EventListResponse
from tripl.plan.variables.models import ValueKind, Variable, VariableType, VariableValueContext


@pytest.fixture
def plan(context: TriplContext, project: dict[str, Any]) -> Plan:
    return make_plan(context, project)


def test_list_envelope_item_shape_and_default_order(
    plan: Plan, editor: TestClient, viewer: TestClient, context: TriplContext
) -> None:
    first = create(editor, screen_body(plan, "Home", tags=["a"]))
    create(editor, {"event_type_id": str(plan.click.id), "name": "Buy"})
    # Same slot as "Home" but created later: newer first among equals, then by id.
    late = make_event(context, plan.screen, "Late", order=0)
    body = listed(viewer)
    assert body["total"] == 3
    assert [e["name"] for e in body["items"]] == ["Late", "Home", "Buy"]
    item = body["items"][1]
    assert "event_type" not in item
    assert item["id"] == first["id"] and item["tags"] == first["tags"]
    assert item["field_values"] == first["field_values"] and item["drift_count"] == 0
    assert str(late.id) == body["items"][0]["id"]


def test_pagination_counts_all_matches(plan: Plan, editor: TestClient) -> None:
    for n in range(7):
        create(editor, screen_body(plan, f"E{n}"))
    page = listed(editor, limit=3, offset=2)
    assert page["total"] == 7 and [e["name"] for e in page["items"]] == ["E2", "E3", "E4"]
    tail = listed(editor, limit=3, offset=6)
    assert tail["total"] == 7 and [e["name"] for e in tail["items"]] == ["E6"]
    beyond = listed(editor, limit=3, offset=50)
    assert beyond == {"items": [], "total": 7}
    # Text filters count in the same statement as the page; the totals must agree.
    searched = listed(editor, search="e", limit=3, offset=2)
    assert searched["total"] == 7 and [e["name"] for e in searched["items"]] == ["E2", "E3", "E4"]
    assert listed(editor, field_value="home", limit=2, offset=50) == {"items": [], "total": 7}
    assert listed(editor, search="E6", limit=1)["total"] == 1
    assert listed(editor)["total"] == 7 and len(listed(editor)["items"]) == 7  # default limit 200
    assert listed(editor, limit=10_000)["total"] == 7
    for bad in (
        {"limit": 0},
        {"limit": 10_001},
        {"offset": -1},
        {"silent_since_days": 3651},
        {"status": "shipped"},
        {"event_type_id": "nope"},
    ):
        assert editor.get(EVENTS, params=bad).status_code == 422, bad


def test_every_filter(plan: Plan, editor: TestClient, context: TriplContext) -> None:
    home = create(
        editor,
        screen_body(
            plan,
            "Home Viewed",
            description="Start page",
            tags=["Core", "nav"],
            meta_values=[{"meta_field_definition_id": str(plan.jira.id), "value": "SHOP-12"}],
        ),
    )
    create(editor, screen_body(plan, "Cart", screen="cart_100%", status="live", tags=["core"]))
    create(
        editor,
        {
            "event_type_id": str(plan.click.id),
            "name": "Buy",
            "status": "in_review",
            "field_values": [{"field_definition_id": str(plan.button.id), "value": "buy_now"}],
        },
    )
    scanned = make_event(
        context, plan.click, "Legacy", status=EventStatus.archived, last_seen_at=utcnow() - timedelta(days=1)
    )
    with context.db.transaction() as db:
        db.get(Event, scanned.id).source_name = "legacy_raw_name"  # type: ignore[union-attr]

    assert names(editor, event_type_id=str(plan.click.id)) == ["Buy", "Legacy"]
    assert names(editor, event_type_id=str(uuid.uuid4())) == []
    assert names(editor, search="hOmE") == ["Home Viewed"]
    assert names(editor, search="start PAGE") == ["Home Viewed"]
    assert names(editor, search="RAW_NAME") == ["Legacy"]
    assert names(editor, search="   ") == ["Home Viewed", "Cart", "Buy", "Legacy"]
    assert names(editor, status=["live", "archived"]) == ["Cart", "Legacy"]
    assert names(editor, status="in_review") == ["Buy"]
    assert names(editor, tag=" CORE ") == ["Home Viewed", "Cart"]
    assert names(editor, tag="nav") == ["Home Viewed"]
    assert names(editor, silent_since_days=0) == ["Home Viewed", "Cart", "Buy", "Legacy"]
    assert names(editor, silent_since_days=2) == ["Home Viewed", "Cart", "Buy"]
    assert names(editor, field_value="BUY_") == ["Buy"]
    assert names(editor, field_value="100%") == ["Cart"]  # % is a character, not a wildcard
    assert names(editor, field_value="_") == ["Cart", "Buy"]
    assert names(editor, meta_value="shop-1") == ["Home Viewed"]
    combined = listed(editor, tag="core", status="live", search="car", limit=1)
    assert combined["total"] == 1 and combined["items"][0]["name"] == "Cart"
    assert listed(editor, tag="core", limit=1)["total"] == 2
    assert home["id"] == listed(editor, meta_value="SHOP")["items"][0]["id"]


def test_tags_are_distinct_sorted_and_per_branch(
    plan: Plan, editor: TestClient, context: TriplContext, project: dict[str, Any]
) -> None:
    create(editor, screen_body(plan, "A", tags=["zeta", "Alpha"]))
    create(editor, screen_body(plan, "B", tags=["alpha", "mid"]))
    assert editor.get(f"{EVENTS}/tags").json() == ["alpha", "mid", "zeta"]
    branch_id = make_working_branch(context, project["id"])
    assert editor.get(f"{EVENTS}/tags", params={"branch": str(branch_id)}).json() == []


def test_list_items_carry_variable_values_of_their_fields(
    plan: Plan, editor: TestClient, context: TriplContext
) -> None:
    event = create(editor, screen_body(plan, "Home", screen="${screen}"))
    make_variable_context(context, event["id"], plan.screen_name, "screen", ["home", "cart"])
    value = listed(editor)["items"][0]["field_values"][0]
    assert [
        (v["variable_name"], v["value_kind"], v["values"], v["observed_count"])
        for v in value["variable_values"]
    ] == [("screen", "low", ["home", "cart"], 2)]
    detail = editor.get(f"{EVENTS}/{event['id']}").json()["field_values"][0]["variable_values"]
    assert detail[0]["source_column"] == "screen" and detail[0]["updated_at"]


def _fill(context: TriplContext, plan: Plan, start: int, n: int) -> None:
    """n events with two field values, a meta value, two tags and a variable context each, in bulk."""
    with context.db.transaction() as db:
        variable = Variable(
            project_id=plan.screen.project_id,
            branch_id=plan.screen.branch_id,
            name=f"v{start}",
            variable_type=VariableType.string,
        )
        db.add(variable)
        db.flush()
        for i in range(start, start + n):
            event = Event(
                id=uuid.uuid4(),
                project_id=plan.screen.project_id,
                branch_id=plan.screen.branch_id,
                event_type_id=plan.screen.id,
                name=f"e{i}",
                source_name=f"e{i}",
                order=i,
            )
            db.add(event)
            db.flush()
            db.add_all(
                [
                    EventFieldValue(
                        event_id=event.id, field_definition_id=plan.screen_name.id, value=f"s{i}"
                    ),
                    EventFieldValue(event_id=event.id, field_definition_id=plan.platform.id, value="ios"),
                    EventMetaValue(event_id=event.id, meta_field_definition_id=plan.jira.id, value="J-1"),
                    EventTag(event_id=event.id, name="t1"),
                    EventTag(event_id=event.id, name="t2"),
                    VariableValueContext(
                        variable_id=variable.id,
                        event_id=event.id,
                        field_definition_id=plan.screen_name.id,
                        value_kind=ValueKind.low,
                        values=["a"],
                    ),
                ]
            )


def test_listing_costs_the_same_statements_for_5_or_500_events(
    plan: Plan, editor: TestClient, context: TriplContext
) -> None:
    _fill(context, plan, 0, 5)
    with count_statements(context) as small:
        body = listed(editor, limit=1000)
    assert body["total"] == 5
    _fill(context, plan, 5, 495)
    context.reusable.clear()  # else the repeat first reads the generation to try the reused answer
    with count_statements(context) as large:
        body = listed(editor, limit=1000)
    assert body["total"] == 500 and len(body["items"]) == 500
    assert all(
        len(e["field_values"]) == 2 and len(e["tags"]) == 2 and len(e["meta_values"]) == 1
        for e in body["items"]
    )
    assert body["items"][499]["field_values"][0]["variable_values"][0]["values"] == ["a"]
    assert len(large) == len(small), (small, large)
    assert len(large) <= 12

    # A page smaller than the result also needs its count: still constant.
    with count_statements(context) as paged:
        assert listed(editor, limit=50, offset=100)["total"] == 500
    assert len(paged) <= len(large) + 1

    # The full event (with its type brief) for many events: reorder answers 500 events.
    ids = [e["id"] for e in body["items"]]
    with count_statements(context) as reorder:
        response = editor.patch(f"{EVENTS}/reorder", json={"event_ids": list(reversed(ids))})
    assert response.status_code == 200 and len(response.json()) == 500
    assert len(reorder) < 30


def test_a_filter_on_one_branch_does_not_see_another(
    plan: Plan, editor: TestClient, context: TriplContext, project: dict[str, Any]
) -> None:
    create(editor, screen_body(plan, "Main event"))
    branch_id = make_working_branch(context, project["id"])
    with context.db.transaction() as db:
        branch_type = EventType(project_id=plan.screen.project_id, branch_id=branch_id, name="screen")
        db.add(branch_type)
    make_event(context, branch_type, "Branch event")
    assert names(editor) == ["Main event"]
    assert names(editor, branch=str(branch_id)) == ["Branch event"]


def test_the_list_body_is_byte_for_byte_what_the_response_model_writes(
    plan: Plan, editor: TestClient, context: TriplContext
) -> None:
    """The list is serialised straight from the rows; it must stay what the schema would write."""
    _fill(context, plan, 0, 3)
    with context.db.transaction() as db:
        first = db.scalars(select(Event).where(Event.name == "e0")).one()
        first.sunset_at = utcnow().replace(microsecond=0) + timedelta(days=3)
        first.last_seen_at = utcnow()
        first.status = EventStatus.live
        first.metric_breakdown_columns = ["platform"]
    response = editor.get(EVENTS)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    model = EventListResponse.model_validate_json(response.content)
    assert response.content == model.model_dump_json().encode()
    assert model.items[0].sunset_at is not None and model.items[0].field_values[0].variable_values
