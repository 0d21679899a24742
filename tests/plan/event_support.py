"""Shared helpers of the event tests: a small plan, API shortcuts and a statement counter."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event

from tests.plan.factories import make_event_type, make_meta_field
from tripl.core.context import TriplContext
from tripl.plan.event_types.models import EventType
from tripl.plan.fields.models import FieldDefinition
from tripl.plan.meta_fields.models import MetaFieldDefinition

EVENTS = "/api/v1/projects/shop/events"


@dataclass
class Plan:
    """Type `screen` (required field `screen_name`, optional `platform`), type `click`, meta `jira`."""

    screen: EventType
    screen_name: FieldDefinition
    platform: FieldDefinition
    click: EventType
    button: FieldDefinition
    jira: MetaFieldDefinition


def make_plan(context: TriplContext, project: dict[str, Any]) -> Plan:
    screen, (screen_name, platform) = make_event_type(
        context,
        project["id"],
        "screen",
        [{"name": "screen_name", "is_required": True}, {"name": "platform"}],
    )
    click, (button,) = make_event_type(context, project["id"], "click", [{"name": "button_id"}])
    jira = make_meta_field(context, project["id"], "jira")
    return Plan(screen, screen_name, platform, click, button, jira)


def screen_body(plan: Plan, name: str, screen: str = "home", **extra: Any) -> dict[str, Any]:
    return {
        "event_type_id": str(plan.screen.id),
        "name": name,
        "field_values": [{"field_definition_id": str(plan.screen_name.id), "value": screen}],
        **extra,
    }


def create(client: TestClient, body: dict[str, Any], url: str = EVENTS) -> dict[str, Any]:
    response = client.post(url, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def listed(client: TestClient, url: str = EVENTS, **params: Any) -> dict[str, Any]:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def names(client: TestClient, url: str = EVENTS, **params: Any) -> list[str]:
    return [e["name"] for e in listed(client, url, **params)["items"]]


def audit_actions(owner: TestClient) -> list[str]:
    return [e["action"] for e in owner.get("/api/v1/audit", params={"limit": 200}).json()["items"]]


def uid(value: Any) -> str:
    return str(uuid.UUID(str(value)))


@contextmanager
def count_statements(context: TriplContext) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa_event.listen(context.db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa_event.remove(context.db.engine, "before_cursor_execute", record)
