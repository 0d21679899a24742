from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from tests.conftest import UserClientFactory
from tests.plan.factories import (
    main_branch_id,
    make_event,
    make_event_type,
    make_meta_field,
    make_working_branch,
)
from tripl.core.context import TriplContext
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventChange, EventFieldValue, EventMetaValue
from tripl.plan.fields.models import FieldDefinition, FieldType
from tripl.plan.meta_fields.models import MetaFieldDefinition
from tripl.plan.variables.models import ValueKind, Variable, VariableType, VariableValueContext
from tripl.workspace.audit.models import AuditEntry

VARS = "/api/v1/projects/shop/variables"


def create(client: TestClient, name: str, url: str = VARS, **extra: Any) -> dict[str, Any]:
    response = client.post(url, json={"name": name, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def by_name(client: TestClient, url: str = VARS) -> dict[str, dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return {v["name"]: v for v in response.json()}


def set_meta_value(ctx: TriplContext, event: Event, meta: MetaFieldDefinition, value: str) -> None:
    with ctx.db.transaction() as db:
        db.add(EventMetaValue(event_id=event.id, meta_field_definition_id=meta.id, value=value))


def add_context(
    ctx: TriplContext,
    variable_id: str,
    event: Event,
    field: FieldDefinition,
    kind: ValueKind,
    values: list[str],
    observed: int = 1,
) -> None:
    with ctx.db.transaction() as db:
        db.add(
            VariableValueContext(
                variable_id=uuid.UUID(variable_id),
                event_id=event.id,
                field_definition_id=field.id,
                source_column=f"col_{field.name}",
                value_kind=kind,
                observed_count=observed,
                values=values,
            )
        )


def branch_event(
    ctx: TriplContext, project_id: str, branch_id: uuid.UUID, value: str
) -> tuple[Event, FieldDefinition]:
    """An event type, field and event on a working branch, the field holding `value`."""
    with ctx.db.transaction() as db:
        event_type = EventType(project_id=uuid.UUID(project_id), branch_id=branch_id, name="screen")
        db.add(event_type)
        db.flush()
        field = FieldDefinition(event_type_id=event_type.id, name="screen_name", field_type=FieldType.string)
        db.add(field)
        db.flush()
        event = Event(
            project_id=event_type.project_id,
            branch_id=branch_id,
            event_type_id=event_type.id,
            name="branch event",
            source_name="branch event",
        )
        db.add(event)
        db.flush()
        db.add(EventFieldValue(event_id=event.id, field_definition_id=field.id, value=value))
    return event, field


@pytest.fixture
def plan(context: TriplContext, project: dict[str, Any]) -> dict[str, Any]:
    event_type, (screen, platform) = make_event_type(
        context, project["id"], "screen", [{"name": "screen_name"}, {"name": "platform"}]
    )
    with context.db.transaction() as db:
        db.execute(
            update(FieldDefinition).where(FieldDefinition.id == screen.id).values(display_name="Screen")
        )
    meta = make_meta_field(context, project["id"], "jira")
    home = make_event(context, event_type, "home", {screen: "${user}", platform: "ios ${user_id}"})
    cart = make_event(context, event_type, "cart", {screen: "cart for ${user} and ${user}", platform: "web"})
    about = make_event(context, event_type, "about", {screen: "about", platform: "${user_idx}"})
    set_meta_value(context, about, meta, "JIRA-${user_id}")
    return {
        "type": event_type,
        "screen": screen,
        "platform": platform,
        "meta": meta,
        "home": home,
        "cart": cart,
        "about": about,
    }


def test_create_answers_the_variable_with_derived_figures(editor: TestClient, plan: dict[str, Any]) -> None:
    body = create(editor, "user_id")
    assert uuid.UUID(body["id"]) and body["project_id"]
    assert body["variable_type"] == "string" and body["description"] == "" and body["source_name"] is None
    assert body["event_count"] == 2  # home (field value) and about (meta value)
    assert body["context_count"] == 0 and body["sample_values"] == []
    typed = create(editor, "amount", variable_type="number", description="Order total")
    assert (typed["variable_type"], typed["description"], typed["event_count"]) == (
        "number",
        "Order total",
        0,
    )


def test_name_rules_and_duplicates(
    editor: TestClient, project: dict[str, Any], context: TriplContext
) -> None:
    for bad in ["User", "1user", "user-id", "user id", "", "a" * 101, "_user", "user.id"]:
        assert editor.post(VARS, json={"name": bad}).status_code == 422, bad
    assert editor.post(VARS, json={"name": "ok", "variable_type": "text"}).status_code == 422
    assert editor.post(VARS, json={"variable_type": "string"}).status_code == 422
    create(editor, "a" * 100)
    create(editor, "user_id")
    duplicate = editor.post(VARS, json={"name": "user_id"})
    assert duplicate.status_code == 409 and "already exists" in duplicate.json()["detail"]
    branch = make_working_branch(context, project["id"])
    on_branch = create(editor, "user_id", url=f"{VARS}?branch={branch}")
    assert on_branch["name"] == "user_id"
    assert set(by_name(editor, f"{VARS}?branch={branch}")) == {"user_id"}
    assert set(by_name(editor)) == {"a" * 100, "user_id"}


def test_list_counts_events_per_placeholder_exactly(
    editor: TestClient, plan: dict[str, Any], context: TriplContext, project: dict[str, Any]
) -> None:
    for name in ["user", "user_id", "user_idx", "unused"]:
        create(editor, name)
    branch = make_working_branch(context, project["id"])
    branch_event(context, project["id"], branch, "${user} ${user_id} ${unused}")
    listed = by_name(editor)
    assert list(listed) == ["unused", "user", "user_id", "user_idx"]  # sorted by name
    counts = {name: v["event_count"] for name, v in listed.items()}
    # ${user} twice in cart counts once; ${user_id} is not ${user}; the branch event is elsewhere.
    assert counts == {"unused": 0, "user": 2, "user_id": 2, "user_idx": 1}
    for name, figure in counts.items():  # the single-variable path agrees with the list
        variable_id = listed[name]["id"]
        assert editor.patch(f"{VARS}/{variable_id}", json={}).json()["event_count"] == figure


def test_context_figures_and_samples(editor: TestClient, plan: dict[str, Any], context: TriplContext) -> None:
    user = create(editor, "user")
    other = create(editor, "other")
    add_context(context, user["id"], plan["home"], plan["screen"], ValueKind.low, ["a", "b", "c"], observed=3)
    add_context(
        context,
        user["id"],
        plan["cart"],
        plan["screen"],
        ValueKind.high,
        [f"v{i}" for i in range(30)] + ["a"],
        observed=500,
    )
    add_context(context, user["id"], plan["home"], plan["platform"], ValueKind.low, ["b", "z"], observed=2)
    add_context(context, other["id"], plan["home"], plan["screen"], ValueKind.low, ["x"])
    listed = by_name(editor)
    figures = listed["user"]
    assert (figures["context_count"], figures["low_context_count"], figures["high_context_count"]) == (
        3,
        2,
        1,
    )
    samples = figures["sample_values"]
    assert len(samples) == 20 and len(set(samples)) == 20
    assert samples == [f"v{i}" for i in range(20)]  # most observed context first
    assert listed["other"]["sample_values"] == ["x"] and listed["other"]["context_count"] == 1

    few = create(editor, "few")
    add_context(context, few["id"], plan["home"], plan["screen"], ValueKind.low, ["b", "a", "b"], observed=5)
    add_context(context, few["id"], plan["home"], plan["platform"], ValueKind.low, ["a", "c"], observed=2)
    assert by_name(editor)["few"]["sample_values"] == ["b", "a", "c"]


def test_list_runs_a_fixed_number_of_queries(
    editor: TestClient, plan: dict[str, Any], context: TriplContext
) -> None:
    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        sa_event.listen(context.db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa_event.remove(context.db.engine, "before_cursor_execute", record)

    for i in range(3):
        variable = create(editor, f"var_{i}")
        add_context(context, variable["id"], plan["home"], plan["screen"], ValueKind.low, [str(i)])
    with counting() as few:
        assert len(by_name(editor)) == 3
    for i in range(3, 40):
        variable = create(editor, f"var_{i}")
        add_context(context, variable["id"], plan["home"], plan["screen"], ValueKind.low, [str(i)])
    with counting() as many:
        assert len(by_name(editor)) == 40
    assert len(many) == len(few)


def test_values_lists_contexts_with_event_and_field_names(
    editor: TestClient, viewer: TestClient, plan: dict[str, Any], context: TriplContext
) -> None:
    user = create(editor, "user")
    add_context(context, user["id"], plan["home"], plan["screen"], ValueKind.low, ["a", "b"], observed=2)
    add_context(context, user["id"], plan["cart"], plan["platform"], ValueKind.high, ["x"], observed=900)
    response = viewer.get(f"{VARS}/{user['id']}/values")
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [(r["event_name"], r["field_name"], r["field_display_name"]) for r in rows] == [
        ("cart", "platform", "platform"),
        ("home", "screen_name", "Screen"),
    ]
    cart, home = rows
    assert cart["variable_id"] == user["id"] and cart["variable_name"] == "user"
    assert cart["event_id"] == str(plan["cart"].id) and cart["field_definition_id"] == str(
        plan["platform"].id
    )
    assert (cart["value_kind"], cart["observed_count"], cart["values"]) == ("high", 900, ["x"])
    assert home["source_column"] == "col_screen_name" and home["values"] == ["a", "b"]
    assert home["updated_at"].endswith(("Z", "+00:00"))
    assert editor.get(f"{VARS}/{uuid.uuid4()}/values").status_code == 404
    assert editor.get(f"{VARS}/not-a-uuid/values").status_code == 422


def test_rename_rewrites_placeholders_on_the_branch_only(
    editor: TestClient, plan: dict[str, Any], context: TriplContext, project: dict[str, Any]
) -> None:
    user = create(editor, "user")
    create(editor, "user_id")
    branch = make_working_branch(context, project["id"])
    branch_event(context, project["id"], branch, "${user}")

    response = editor.patch(f"{VARS}/{user['id']}", json={"name": "customer"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "customer" and response.json()["event_count"] == 2

    with context.db.sessions() as db:
        values = {
            (event, field): value
            for event, field, value in db.execute(
                select(Event.name, FieldDefinition.name, EventFieldValue.value)
                .join(Event, Event.id == EventFieldValue.event_id)
                .join(FieldDefinition, FieldDefinition.id == EventFieldValue.field_definition_id)
            )
        }
        meta = db.scalars(select(EventMetaValue.value)).all()
        history = db.execute(
            select(Event.name, EventChange.field, EventChange.old_value, EventChange.new_value)
            .join(Event, Event.id == EventChange.event_id)
            .order_by(Event.name)
        ).all()
    assert values[("home", "screen_name")] == "${customer}"
    assert values[("home", "platform")] == "ios ${user_id}"  # a longer name is left alone
    assert values[("cart", "screen_name")] == "cart for ${customer} and ${customer}"
    assert values[("about", "platform")] == "${user_idx}"
    assert values[("branch event", "screen_name")] == "${user}"  # another branch
    assert meta == ["JIRA-${user_id}"]
    assert [tuple(h) for h in history] == [
        ("cart", "field:screen_name", "cart for ${user} and ${user}", "cart for ${customer} and ${customer}"),
        ("home", "field:screen_name", "${user}", "${customer}"),
    ]
    listed = by_name(editor)
    assert listed["customer"]["event_count"] == 2 and listed["user_id"]["event_count"] == 2


def test_rename_rewrites_meta_values_and_refuses_taken_names(
    editor: TestClient, plan: dict[str, Any], context: TriplContext
) -> None:
    user_id = create(editor, "user_id")
    create(editor, "account")
    taken = editor.patch(f"{VARS}/{user_id['id']}", json={"name": "account"})
    assert taken.status_code == 409
    with context.db.sessions() as db:  # nothing was rewritten by the refused rename
        assert db.scalars(select(EventMetaValue.value)).all() == ["JIRA-${user_id}"]
        assert db.scalars(select(EventChange.id)).all() == []

    renamed = editor.patch(f"{VARS}/{user_id['id']}", json={"name": "member_id", "description": "Member"})
    assert renamed.status_code == 200 and renamed.json()["description"] == "Member"
    with context.db.sessions() as db:
        assert db.scalars(select(EventMetaValue.value)).all() == ["JIRA-${member_id}"]
        assert "meta:jira" in db.scalars(select(EventChange.field)).all()
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "variable.update")).one()
    assert entry.project_slug == "shop" and entry.target_name == "member_id"
    assert entry.payload["old_name"] == "user_id" and entry.payload["rewritten_meta_values"] == 1
    assert entry.payload["rewritten_field_values"] == 1 and entry.payload["rewritten_events"] == 2


def test_update_fields_and_nulls(editor: TestClient, project: dict[str, Any], context: TriplContext) -> None:
    variable = create(editor, "amount", description="Total")
    url = f"{VARS}/{variable['id']}"
    changed = editor.patch(url, json={"variable_type": "number"}).json()
    assert changed["variable_type"] == "number" and changed["description"] == "Total"
    assert editor.patch(url, json={"description": None}).json()["description"] == ""
    for body in [{"name": None}, {"variable_type": None}, {"variable_type": "text"}, {"name": "Bad"}]:
        assert editor.patch(url, json=body).status_code == 422, body
    assert editor.patch(url, json={"name": "a.b"}).status_code == 422  # dots only for old names
    assert editor.patch(f"{VARS}/{uuid.uuid4()}", json={"description": "x"}).status_code == 404

    with context.db.transaction() as db:  # a name a scan once derived from a JSON path
        legacy = Variable(
            project_id=uuid.UUID(project["id"]),
            branch_id=main_branch_id(context, project["id"]),
            name="props.user",
            source_name="props.user",
            variable_type=VariableType.string,
        )
        db.add(legacy)
    same = editor.patch(f"{VARS}/{legacy.id}", json={"name": "props.user", "description": "kept"})
    assert same.status_code == 200 and same.json()["source_name"] == "props.user"


def test_delete_removes_contexts_and_keeps_value_text(
    editor: TestClient, plan: dict[str, Any], context: TriplContext
) -> None:
    user = create(editor, "user")
    add_context(context, user["id"], plan["home"], plan["screen"], ValueKind.low, ["a"])
    assert editor.delete(f"{VARS}/{user['id']}").status_code == 204
    assert editor.delete(f"{VARS}/{user['id']}").status_code == 404
    assert editor.get(f"{VARS}/{user['id']}/values").status_code == 404
    with context.db.sessions() as db:
        assert db.scalars(select(VariableValueContext.id)).all() == []
        assert "${user}" in db.scalars(select(EventFieldValue.value)).all()
        actions = db.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "variable")).all()
    assert sorted(actions) == ["variable.create", "variable.delete"]
    assert create(editor, "user")["event_count"] == 2  # the placeholders are picked up again


def test_roles_keys_and_other_projects(
    owner: TestClient,
    viewer: TestClient,
    key_client: UserClientFactory,
    project: dict[str, Any],
) -> None:
    variable = create(owner, "user")
    url = f"{VARS}/{variable['id']}"
    assert viewer.get(VARS).status_code == 200 and viewer.get(f"{url}/values").status_code == 200
    reader = key_client("editor", "read")
    for client in (viewer, reader):
        assert client.post(VARS, json={"name": "x"}).status_code == 403
        assert client.patch(url, json={"description": "x"}).status_code == 403
        assert client.delete(url).status_code == 403
    assert reader.get(VARS).status_code == 200

    other = owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"})
    assert other.status_code == 201
    foreign = "/api/v1/projects/other/variables"
    assert owner.get(foreign).json() == []
    assert owner.get(f"{foreign}/{variable['id']}/values").status_code == 404
    assert owner.patch(f"{foreign}/{variable['id']}", json={"description": "x"}).status_code == 404
    assert owner.delete(f"{foreign}/{variable['id']}").status_code == 404
    bound = key_client("editor", "write", "other")
    assert bound.get(VARS).status_code == 403
    assert create(bound, "user", url=foreign)["name"] == "user"
    assert owner.get(f"{VARS}?branch=nope").status_code == 400
    assert owner.get(f"{VARS}?branch={uuid.uuid4()}").status_code == 404
