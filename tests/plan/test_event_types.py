from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from tests.conftest import UserClientFactory
from tests.plan.factories import make_event, make_event_type
from tripl.core.context import TriplContext
from tripl.plan.branches.models import BranchKind, BranchStatus, PlanBranch
from tripl.plan.events.models import Event
from tripl.plan.fields.models import FieldDefinition
from tripl.plan.owners.models import EventTypeOwner
from tripl.plan.relations.models import Relation

TYPES = "/api/v1/projects/shop/event-types"


def create_type(
    client: TestClient, name: str = "page_view", url: str = TYPES, **extra: Any
) -> dict[str, Any]:
    response = client.post(url, json={"name": name, "display_name": name.title(), **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def audit_actions(owner: TestClient) -> list[str]:
    return [e["action"] for e in owner.get("/api/v1/audit", params={"limit": 200}).json()["items"]]


def make_branch(context: TriplContext, project_id: str) -> uuid.UUID:
    with context.db.transaction() as db:
        branch = PlanBranch(
            project_id=uuid.UUID(project_id), name="work", kind=BranchKind.working, status=BranchStatus.draft
        )
        db.add(branch)
        db.flush()
        return branch.id


@contextmanager
def count_queries(context: TriplContext) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(context.db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(context.db.engine, "before_cursor_execute", record)


def test_create_with_defaults_and_inline_fields(
    project: dict[str, Any], editor: TestClient, owner: TestClient
) -> None:
    body = create_type(
        editor,
        "checkout",
        field_definitions=[
            {"name": "total", "display_name": "Total", "field_type": "number", "is_required": True},
            {
                "name": "currency",
                "display_name": "Currency",
                "field_type": "enum",
                "enum_options": ["EUR", "USD"],
            },
            {"name": "coupon", "display_name": "Coupon", "field_type": "string"},
        ],
    )
    assert body["project_id"] == project["id"]
    assert (body["color"], body["order"], body["description"]) == ("#6366f1", 0, "")
    fields = body["field_definitions"]
    assert [(f["name"], f["order"]) for f in fields] == [("total", 0), ("currency", 1), ("coupon", 2)]
    assert fields[1]["enum_options"] == ["EUR", "USD"] and fields[0]["is_required"] is True
    assert fields[2]["sensitivity"] == "none" and fields[2]["contract_max_bad_rate"] == 0
    assert all(f["event_type_id"] == body["id"] for f in fields)
    assert editor.get(f"{TYPES}/{body['id']}").json() == body
    assert audit_actions(owner)[0] == "event_type.create"


def test_validation_of_names_colors_and_inline_fields(project: dict[str, Any], editor: TestClient) -> None:
    create_type(editor, "signup", color="#ABCdef")
    assert editor.post(TYPES, json={"name": "signup", "display_name": "Again"}).status_code == 409
    bad_bodies = [
        {"name": "", "display_name": "x"},
        {"name": "x" * 101, "display_name": "x"},
        {"name": "nodisplay"},
        {"name": "c1", "display_name": "x", "color": "red"},
        {"name": "c2", "display_name": "x", "color": "#12345"},
        {"name": "c3", "display_name": "x", "color": None},
        {
            "name": "f1",
            "display_name": "x",
            "field_definitions": [{"name": "e", "display_name": "E", "field_type": "enum"}],
        },
        {
            "name": "f2",
            "display_name": "x",
            "field_definitions": [{"name": "n", "display_name": "N", "field_type": "date"}],
        },
        {"name": "nul\x00", "display_name": "x"},
    ]
    for bad in bad_bodies:
        assert editor.post(TYPES, json=bad).status_code == 422, bad
    repeated = editor.post(
        TYPES,
        json={
            "name": "dup_fields",
            "display_name": "x",
            "field_definitions": [
                {"name": "a", "display_name": "A", "field_type": "string"},
                {"name": "a", "display_name": "A2", "field_type": "number"},
            ],
        },
    )
    assert repeated.status_code == 422
    assert repeated.json()["detail"][0]["loc"] == ["body", "field_definitions", 1, "name"]
    # Nothing of the refused requests was written.
    assert [t["name"] for t in editor.get(TYPES).json()] == ["signup"]


def test_list_is_ordered_and_costs_a_constant_number_of_queries(
    project: dict[str, Any], editor: TestClient, context: TriplContext
) -> None:
    create_type(
        editor,
        "zeta",
        order=0,
        field_definitions=[{"name": "b", "display_name": "B", "field_type": "string"}],
    )
    with count_queries(context) as one_type:
        assert len(editor.get(TYPES).json()) == 1
    create_type(editor, "alpha", order=1)
    create_type(editor, "beta", order=0)
    for n in range(4):
        fields = [
            {"name": f"f{i}", "display_name": "F", "field_type": "string", "order": 5 - i} for i in range(3)
        ]
        create_type(editor, f"extra{n}", order=2, field_definitions=fields)
    with count_queries(context) as seven_types:
        listed = editor.get(TYPES).json()
    assert [t["name"] for t in listed] == ["beta", "zeta", "alpha", "extra0", "extra1", "extra2", "extra3"]
    assert [f["name"] for f in listed[3]["field_definitions"]] == ["f2", "f1", "f0"]
    assert len(seven_types) == len(one_type)


def test_update_is_partial_and_name_is_immutable(
    project: dict[str, Any], editor: TestClient, owner: TestClient
) -> None:
    created = create_type(editor, "search", description="Searches", color="#000000")
    url = f"{TYPES}/{created['id']}"
    response = editor.patch(url, json={"display_name": "Site search", "order": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["display_name"], body["order"], body["description"], body["color"]) == (
        "Site search",
        3,
        "Searches",
        "#000000",
    )
    assert editor.patch(url, json={"name": "search", "color": "#FFFFFF"}).json()["color"] == "#FFFFFF"
    renamed = editor.patch(url, json={"name": "find"})
    assert renamed.status_code == 422 and renamed.json()["detail"][0]["loc"] == ["body", "name"]
    for bad in (
        {"display_name": None},
        {"color": None},
        {"order": None},
        {"color": "#GGGGGG"},
        {"display_name": ""},
    ):
        assert editor.patch(url, json=bad).status_code == 422, bad
    assert editor.patch(url, json={"description": None}).json()["description"] == ""
    final = editor.get(url).json()
    assert (final["name"], final["display_name"], final["color"]) == ("search", "Site search", "#FFFFFF")
    assert audit_actions(owner).count("event_type.update") == 3


def test_delete_takes_fields_events_owners_and_relations_along(
    project: dict[str, Any], editor: TestClient, context: TriplContext
) -> None:
    kept, (kept_field,) = make_event_type(context, project["id"], "kept", [{"name": "id"}])
    doomed, (doomed_field,) = make_event_type(context, project["id"], "doomed", [{"name": "ref"}])
    make_event(context, doomed, "Doomed happened", {doomed_field: "x"})
    with context.db.transaction() as db:
        db.add(
            Relation(
                project_id=doomed.project_id,
                branch_id=doomed.branch_id,
                source_event_type_id=doomed.id,
                source_field_id=doomed_field.id,
                target_event_type_id=kept.id,
                target_field_id=kept_field.id,
            )
        )
    me = editor.get("/api/v1/auth/me").json()["id"]
    assert editor.post(f"{TYPES}/{doomed.id}/owners", json={"user_id": me}).status_code == 201

    assert editor.delete(f"{TYPES}/{doomed.id}").status_code == 204
    assert editor.get(f"{TYPES}/{doomed.id}").status_code == 404
    assert editor.delete(f"{TYPES}/{doomed.id}").status_code == 404
    with context.db.sessions() as db:
        assert db.scalar(select(func.count()).select_from(FieldDefinition)) == 1
        assert db.scalar(select(func.count()).select_from(Event)) == 0
        assert db.scalar(select(func.count()).select_from(Relation)) == 0
        assert db.scalar(select(func.count()).select_from(EventTypeOwner)) == 0
    assert [t["name"] for t in editor.get(TYPES).json()] == ["kept"]


def test_viewers_and_read_keys_cannot_write(
    project: dict[str, Any], viewer: TestClient, key_client: UserClientFactory, editor: TestClient
) -> None:
    created = create_type(editor)
    url = f"{TYPES}/{created['id']}"
    read_key = key_client("owner", "read")
    for client in (viewer, read_key):
        assert client.post(TYPES, json={"name": "x", "display_name": "X"}).status_code == 403
        assert client.patch(url, json={"display_name": "Y"}).status_code == 403
        assert client.delete(url).status_code == 403
        assert client.get(url).status_code == 200
        assert len(client.get(TYPES).json()) == 1
    write_key = key_client("editor", "write", project_slug="shop")
    assert write_key.post(TYPES, json={"name": "by_key", "display_name": "K"}).status_code == 201


def test_ids_of_another_project_or_branch_are_not_found(
    project: dict[str, Any], owner: TestClient, context: TriplContext
) -> None:
    other = owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"}).json()
    foreign = create_type(owner, "foreign", url="/api/v1/projects/other/event-types")
    create_type(owner, "foreign")  # the same name is free in another project
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"display_name": "x"}} if method == "patch" else {}
        assert getattr(owner, method)(f"{TYPES}/{foreign['id']}", **kwargs).status_code == 404

    branch_id = make_branch(context, project["id"])
    on_branch = create_type(owner, "foreign", url=f"{TYPES}?branch={branch_id}")
    assert on_branch["id"] != foreign["id"]
    assert [t["id"] for t in owner.get(TYPES, params={"branch": str(branch_id)}).json()] == [on_branch["id"]]
    assert owner.get(f"{TYPES}/{on_branch['id']}").status_code == 404
    assert owner.get(f"{TYPES}/{on_branch['id']}", params={"branch": str(branch_id)}).status_code == 200
    assert owner.get(TYPES, params={"branch": "nope"}).status_code == 400
    other_branch = make_branch(context, other["id"])
    assert owner.get(TYPES, params={"branch": str(other_branch)}).status_code == 404
