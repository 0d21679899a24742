"""List Events pages are cached per process and must never be served after a plan write committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, update

from tests.conftest import make_settings
from tests.plan.event_support import EVENTS, Plan, count_statements, create, listed, make_plan, screen_body
from tests.plan.factories import make_variable_context
from tripl.app import create_app
from tripl.core.context import TriplContext, build_context
from tripl.core.db import utcnow
from tripl.core.read_cache import SizedLru, plan_generation
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event
from tripl.plan.fields.models import FieldDefinition
from tripl.plan.variables.models import Variable
from tripl.workspace.audit.models import AuditEntry
from tripl.workspace.auth.service import purge_expired_sessions


@pytest.fixture
def plan(context: TriplContext, project: dict[str, Any]) -> Plan:
    return make_plan(context, project)


def generation(context: TriplContext) -> int | None:
    with context.db.sessions() as db:
        return plan_generation(db)


def event_queries(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM events" in s]


def test_a_repeated_page_is_answered_without_reading_the_events_again(
    plan: Plan, editor: TestClient, viewer: TestClient, context: TriplContext
) -> None:
    create(editor, screen_body(plan, "Home", tags=["a"]))
    first = listed(viewer, limit=10)
    with count_statements(context) as statements:
        again = listed(viewer, limit=10)
    assert again == first
    assert event_queries(statements) == [], statements
    # Another page, filter or branch is another entry.
    with count_statements(context) as statements:
        assert listed(viewer, limit=10, tag="b") == {"items": [], "total": 0}
    assert event_queries(statements) != []


def test_every_kind_of_plan_write_shows_on_the_next_page(
    plan: Plan, editor: TestClient, viewer: TestClient, context: TriplContext
) -> None:
    home = create(editor, screen_body(plan, "Home"))
    listed(viewer)  # cached from here on

    assert editor.patch(f"{EVENTS}/{home['id']}", json={"name": "Start"}).status_code == 200
    assert [e["name"] for e in listed(viewer)["items"]] == ["Start"]

    value = {"field_definition_id": str(plan.screen_name.id), "value": "landing"}
    assert (
        editor.patch(f"{EVENTS}/{home['id']}", json={"field_values": [value], "tags": ["x"]}).status_code
        == 200
    )
    item = listed(viewer)["items"][0]
    assert item["field_values"][0]["value"] == "landing" and [t["name"] for t in item["tags"]] == ["x"]

    # A variable renamed elsewhere in the plan changes the name shown inside the event's values.
    context_row = make_variable_context(context, home["id"], plan.screen_name, "screen", ["a"])
    assert listed(viewer)["items"][0]["field_values"][0]["variable_values"][0]["variable_id"] == str(
        context_row.variable_id
    )
    with context.db.transaction() as db:
        db.execute(update(Variable).where(Variable.id == context_row.variable_id).values(name="renamed"))
    assert listed(viewer)["items"][0]["field_values"][0]["variable_values"][0]["variable_name"] == "renamed"

    # Metric collection moves last_seen_at with a bulk UPDATE, outside any API route.
    assert listed(viewer, silent_since_days=1)["total"] == 1
    seen = utcnow().replace(microsecond=0)
    with context.db.transaction() as db:
        db.execute(update(Event).where(Event.name == "Start").values(last_seen_at=seen))
    assert listed(viewer, silent_since_days=1)["total"] == 0
    assert listed(viewer)["items"][0]["last_seen_at"] == seen.isoformat().replace("+00:00", "Z")


def test_a_write_through_another_worker_is_seen_by_this_one(
    plan: Plan,
    editor: TestClient,
    viewer: TestClient,
    context: TriplContext,
    database_url: str,
    tmp_path: Path,
) -> None:
    create(editor, screen_body(plan, "Home"))
    assert listed(viewer)["total"] == 1
    other = build_context(make_settings(tmp_path, database_url))  # its own engine and cache
    try:
        other_editor = TestClient(create_app(context=other), base_url=editor.base_url, cookies=editor.cookies)
        other_editor.headers.update(editor.headers)
        create(other_editor, screen_body(plan, "Cart"))
        assert listed(other_editor)["total"] == 2
    finally:
        other.close()
    assert sorted(e["name"] for e in listed(viewer)["items"]) == ["Cart", "Home"]


def test_only_committed_plan_writes_move_the_generation(context: TriplContext, plan: Plan) -> None:
    start = generation(context)
    assert start is not None
    with context.db.sessions() as db:  # reading never counts
        listed_rows = db.query(Event).all()
    assert listed_rows == [] and generation(context) == start

    with pytest.raises(RuntimeError), context.db.transaction() as db:
        db.execute(update(Event).values(name="x"))
        raise RuntimeError("rolled back")
    assert generation(context) == start

    with context.db.transaction() as db:  # audit rows are written by every mutation; no plan read uses them
        db.execute(insert(AuditEntry).values(action="test.action"))
    assert generation(context) == start

    with context.db.transaction() as db:  # statements that touch no row change nothing
        db.execute(update(Event).values(description="a"))
        assert purge_expired_sessions(db) == 0
    assert generation(context) == start

    with context.db.transaction() as db:  # one transaction, several statements: one step
        db.execute(update(EventType).values(description="a"))
        db.execute(update(FieldDefinition).values(description="b"))
    assert generation(context) == start + 1


def test_the_body_cache_drops_least_recently_used_pages_beyond_its_size() -> None:
    cache: SizedLru[bytes] = SizedLru(max_bytes=40)
    cache.put("a", b"x" * 10, 10)
    cache.put("b", b"x" * 10, 10)
    cache.put("c", b"x" * 10, 10)
    assert cache.get("a") is not None  # now the most recently used
    cache.put("d", b"x" * 10, 10)
    cache.put("e", b"x" * 10, 10)  # 50 bytes: "b", the least recently used, goes
    assert cache.get("b") is None
    assert [cache.get(k) is not None for k in "acde"] == [True, True, True, True]
    cache.put("huge", b"x" * 11, 11)  # over a quarter of the cache: never kept
    assert cache.get("huge") is None and cache.get("e") is not None


def test_a_client_holding_the_current_page_is_answered_304_until_the_plan_changes(
    plan: Plan, editor: TestClient, viewer: TestClient
) -> None:
    create(editor, screen_body(plan, "Home"))
    first = viewer.get(EVENTS, params={"limit": 10})
    etag = first.headers["etag"]
    assert first.status_code == 200 and first.headers["cache-control"] == "private, no-cache"

    again = viewer.get(EVENTS, params={"limit": 10}, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = viewer.get(EVENTS, params={"limit": 10}, headers={"if-none-match": 'W/"plan-0"'})
    assert other.status_code == 200 and other.json() == first.json()

    create(editor, screen_body(plan, "Cart"))
    changed = viewer.get(EVENTS, params={"limit": 10}, headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.json()["total"] == 2
    assert changed.headers["etag"] != etag
