from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import UserClientFactory
from tripl.core.context import TriplContext
from tripl.plan.branches.models import BranchKind, BranchStatus, PlanBranch

RELATIONS = "/api/v1/projects/shop/relations"


def new_type(
    client: TestClient, name: str, fields: list[str], url: str = "/api/v1/projects/shop/event-types"
) -> dict[str, Any]:
    specs = [{"name": f, "display_name": f, "field_type": "string"} for f in fields]
    response = client.post(url, json={"name": name, "display_name": name, "field_definitions": specs})
    assert response.status_code == 201, response.text
    body = dict(response.json())
    body["fields"] = {f["name"]: f["id"] for f in body["field_definitions"]}
    return body


def link(
    source: dict[str, Any], source_field: str, target: dict[str, Any], target_field: str, **extra: Any
) -> dict[str, Any]:
    return {
        "source_event_type_id": source["id"],
        "source_field_id": source["fields"][source_field],
        "target_event_type_id": target["id"],
        "target_field_id": target["fields"][target_field],
        **extra,
    }


def test_create_list_and_delete(project: dict[str, Any], editor: TestClient, owner: TestClient) -> None:
    order = new_type(editor, "order", ["id", "user_id"])
    user = new_type(editor, "user", ["id"])
    response = editor.post(RELATIONS, json=link(order, "user_id", user, "id"))
    assert response.status_code == 201, response.text
    first = response.json()
    assert first["project_id"] == project["id"]
    assert (first["relation_type"], first["description"]) == ("belongs_to", "")
    assert (
        first["source_field_id"] == order["fields"]["user_id"] and first["target_event_type_id"] == user["id"]
    )
    second = editor.post(
        RELATIONS,
        json=link(user, "id", order, "user_id", relation_type="has_many", description="Orders of a user"),
    ).json()
    assert second["relation_type"] == "has_many" and second["description"] == "Orders of a user"
    assert editor.post(RELATIONS, json=link(order, "user_id", user, "id")).status_code == 409

    assert [r["id"] for r in editor.get(RELATIONS).json()] == [first["id"], second["id"]]
    assert editor.delete(f"{RELATIONS}/{first['id']}").status_code == 204
    assert editor.delete(f"{RELATIONS}/{first['id']}").status_code == 404
    assert [r["id"] for r in editor.get(RELATIONS).json()] == [second["id"]]
    actions = [e["action"] for e in owner.get("/api/v1/audit").json()["items"]]
    assert actions.count("relation.create") == 2 and actions.count("relation.delete") == 1


def test_fields_must_belong_to_their_side(project: dict[str, Any], editor: TestClient) -> None:
    order = new_type(editor, "order", ["user_id"])
    user = new_type(editor, "user", ["id"])
    swapped = link(order, "user_id", user, "id")
    swapped["source_field_id"], swapped["target_field_id"] = (
        swapped["target_field_id"],
        swapped["source_field_id"],
    )
    response = editor.post(RELATIONS, json=swapped)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "source_field_id"]
    wrong_target = link(order, "user_id", user, "id")
    wrong_target["target_field_id"] = order["fields"]["user_id"]
    response = editor.post(RELATIONS, json=wrong_target)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "target_field_id"]
    for bad in ({"relation_type": ""}, {"relation_type": "x" * 51}, {"description": None}):
        assert editor.post(RELATIONS, json=link(order, "user_id", user, "id", **bad)).status_code == 422, bad
    assert editor.post(RELATIONS, json={"source_event_type_id": order["id"]}).status_code == 422
    assert editor.get(RELATIONS).json() == []


def test_types_and_fields_of_other_projects_or_branches_are_not_found(
    project: dict[str, Any], owner: TestClient, context: TriplContext
) -> None:
    order = new_type(owner, "order", ["user_id"])
    user = new_type(owner, "user", ["id"])
    owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"})
    foreign = new_type(owner, "user", ["id"], url="/api/v1/projects/other/event-types")

    with_foreign_type = link(order, "user_id", foreign, "id")
    assert owner.post(RELATIONS, json=with_foreign_type).json() == {"detail": "Event type not found"}
    with_foreign_field = link(order, "user_id", user, "id")
    with_foreign_field["target_field_id"] = foreign["fields"]["id"]
    response = owner.post(RELATIONS, json=with_foreign_field)
    assert response.status_code == 404 and response.json() == {"detail": "Field not found"}
    unknown = link(order, "user_id", user, "id")
    unknown["source_event_type_id"] = str(uuid.uuid4())
    assert owner.post(RELATIONS, json=unknown).status_code == 404

    other_relation = owner.post("/api/v1/projects/other/relations", json=link(foreign, "id", foreign, "id"))
    assert other_relation.status_code == 201, other_relation.text
    assert owner.delete(f"{RELATIONS}/{other_relation.json()['id']}").status_code == 404
    assert owner.get(RELATIONS).json() == []

    with context.db.transaction() as db:
        branch = PlanBranch(
            project_id=uuid.UUID(project["id"]),
            name="work",
            kind=BranchKind.working,
            status=BranchStatus.draft,
        )
        db.add(branch)
        db.flush()
        branch_id = str(branch.id)
    # Types of main are not on the working branch.
    on_branch = owner.post(RELATIONS, params={"branch": branch_id}, json=link(order, "user_id", user, "id"))
    assert on_branch.status_code == 404
    branch_types = f"/api/v1/projects/shop/event-types?branch={branch_id}"
    b_order, b_user = (
        new_type(owner, "order", ["user_id"], branch_types),
        new_type(owner, "user", ["id"], branch_types),
    )
    created = owner.post(RELATIONS, params={"branch": branch_id}, json=link(b_order, "user_id", b_user, "id"))
    assert created.status_code == 201, created.text
    assert owner.get(RELATIONS).json() == []
    assert len(owner.get(RELATIONS, params={"branch": branch_id}).json()) == 1


def test_deleting_a_type_removes_its_relations(project: dict[str, Any], editor: TestClient) -> None:
    order = new_type(editor, "order", ["user_id"])
    user = new_type(editor, "user", ["id"])
    assert editor.post(RELATIONS, json=link(order, "user_id", user, "id")).status_code == 201
    assert editor.delete(f"/api/v1/projects/shop/event-types/{user['id']}").status_code == 204
    assert editor.get(RELATIONS).json() == []


def test_viewers_and_read_keys_cannot_write(
    project: dict[str, Any], owner: TestClient, viewer: TestClient, key_client: UserClientFactory
) -> None:
    order = new_type(owner, "order", ["user_id"])
    user = new_type(owner, "user", ["id"])
    relation = owner.post(RELATIONS, json=link(order, "user_id", user, "id")).json()
    for client in (viewer, key_client("owner", "read")):
        assert client.post(RELATIONS, json=link(user, "id", order, "user_id")).status_code == 403
        assert client.delete(f"{RELATIONS}/{relation['id']}").status_code == 403
        assert len(client.get(RELATIONS).json()) == 1
