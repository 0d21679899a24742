"""A repeated List Events request is answered from the caller's previous response, after one
generation read, and never once anything it depends on changed (plan, key, session, project)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ORIGIN, UserClientFactory, new_client
from tests.plan.event_support import EVENTS, Plan, count_statements, create, listed, make_plan, screen_body
from tripl.core import reuse
from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.core.read_cache import plan_generation
from tripl.core.reuse import GenerationReads
from tripl.plan.events import router as events_router
from tripl.workspace.auth import deps as auth_deps

KEYS = "/api/v1/me/api-keys"


@pytest.fixture
def plan(context: TriplContext, project: dict[str, Any]) -> Plan:
    return make_plan(context, project)


def new_key(client: TestClient, **body: Any) -> tuple[str, TestClient]:
    created = client.post(KEYS, json={"name": "script", **body})
    assert created.status_code == 201, created.text
    script = TestClient(
        client.app, base_url=ORIGIN, headers={"authorization": f"Bearer {created.json()['token']}"}
    )
    return str(created.json()["id"]), script


def only_generation_read(statements: list[str]) -> bool:
    queries = [s for s in statements if s != "BEGIN"]  # SQLite's own, sent by our begin hook
    return len(queries) == 1 and "FROM plan_generation" in queries[0]


def test_a_repeat_costs_one_generation_read_and_a_plan_change_shows_at_once(
    plan: Plan, editor: TestClient, viewer: TestClient, context: TriplContext
) -> None:
    create(editor, screen_body(plan, "Home"))
    _, script = new_key(viewer)
    for caller in (viewer, script):
        first = caller.get(EVENTS, params={"limit": 10})
        with count_statements(context) as statements:
            again = caller.get(EVENTS, params={"limit": 10})
        assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
        assert only_generation_read(statements), statements
        assert again.headers["x-request-id"]  # still passes the outer middleware

    with count_statements(context) as statements:
        unchanged = viewer.get(EVENTS, params={"limit": 10}, headers={"if-none-match": first.headers["etag"]})
    assert unchanged.status_code == 304 and only_generation_read(statements)

    create(editor, screen_body(plan, "Cart"))
    for caller in (viewer, script):
        with count_statements(context) as statements:
            assert [e["name"] for e in listed(caller, limit=10)["items"]] == ["Home", "Cart"]
        # The stale entry's generation read also serves the full path that follows.
        assert sum("FROM plan_generation" in s for s in statements) == 1, statements


def test_a_revoked_key_is_refused_on_its_next_request(plan: Plan, editor: TestClient) -> None:
    key_id, script = new_key(editor)
    assert script.get(EVENTS).status_code == 200
    assert script.get(EVENTS).status_code == 200  # now reusable
    assert editor.delete(f"{KEYS}/{key_id}").status_code == 204
    refused = script.get(EVENTS)
    assert refused.status_code == 401 and refused.json() == {"detail": "Invalid or expired API key"}


def test_a_signed_out_session_is_refused_on_its_next_request(
    plan: Plan, app: Any, user_client: UserClientFactory
) -> None:
    browser = user_client("viewer")
    same_session = new_client(app)
    same_session.cookies.update(browser.cookies)
    assert same_session.get(EVENTS).status_code == 200
    assert same_session.get(EVENTS).status_code == 200
    assert browser.post("/api/v1/auth/logout").status_code == 204
    assert same_session.get(EVENTS).status_code == 401


def test_a_deleted_project_and_another_credential_are_never_answered_from_the_entry(
    plan: Plan, owner: TestClient, viewer: TestClient, key_client: UserClientFactory
) -> None:
    assert viewer.get(EVENTS).status_code == 200
    assert viewer.get(EVENTS).status_code == 200
    assert owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"}).status_code == 201
    bound_elsewhere = key_client("viewer", "read", project_slug="other")
    refused = bound_elsewhere.get(EVENTS)
    assert refused.status_code == 403 and refused.json() == {
        "detail": "API key is not authorized for this project"
    }
    assert key_client("viewer", "read").get(EVENTS).status_code == 200

    assert owner.delete("/api/v1/projects/shop").status_code == 204
    assert viewer.get(EVENTS).status_code == 404


def test_a_key_is_checked_again_when_its_use_must_be_recorded(
    plan: Plan, editor: TestClient, context: TriplContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, script = new_key(editor, expires_in_days=1)
    with context.db.sessions() as db:
        before = plan_generation(db)
    assert script.get(EVENTS).status_code == 200
    with context.db.sessions() as db:
        assert plan_generation(db) == before  # recording the use changed no cached answer
    first_use = editor.get(KEYS).json()[0]["last_used_at"]

    later = utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(reuse, "utcnow", lambda: later)
    monkeypatch.setattr(auth_deps, "utcnow", lambda: later)
    with count_statements(context) as statements:
        assert script.get(EVENTS).status_code == 200
    assert not only_generation_read(statements)
    assert editor.get(KEYS).json()[0]["last_used_at"] > first_use

    expired = utcnow() + timedelta(days=2)
    monkeypatch.setattr(reuse, "utcnow", lambda: expired)
    monkeypatch.setattr(auth_deps, "utcnow", lambda: expired)
    assert script.get(EVENTS).status_code == 401


def test_silent_since_days_is_counted_again_each_minute(
    plan: Plan, editor: TestClient, viewer: TestClient, context: TriplContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(editor, screen_body(plan, "Home"))
    listed(viewer, silent_since_days=1)
    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(reuse, "utcnow", lambda: later)
    monkeypatch.setattr(events_router, "utcnow", lambda: later)
    with count_statements(context) as statements:
        listed(viewer, silent_since_days=1)
    assert any("FROM events" in s for s in statements)


def test_a_request_never_takes_a_generation_read_that_started_before_it_arrived() -> None:
    reads: list[int] = []
    first_read_started = threading.Event()
    release_first_read = threading.Event()

    def read() -> int:
        reads.append(len(reads) + 1)
        if len(reads) == 1:
            first_read_started.set()
            release_first_read.wait(5)
        return len(reads)

    async def scenario() -> list[int | None]:
        generations = GenerationReads(read)
        early = asyncio.create_task(generations.current())
        while not first_read_started.is_set():
            await asyncio.sleep(0.001)
        late = [asyncio.create_task(generations.current()) for _ in range(4)]
        await asyncio.sleep(0.01)
        late.pop().cancel()  # its client went away: the others' read goes on
        release_first_read.set()
        return [await early, *[await t for t in late]]

    started = time.monotonic()
    assert asyncio.run(scenario()) == [1, 2, 2, 2]  # the late ones share one later read
    assert reads == [1, 2] and time.monotonic() - started < 5
