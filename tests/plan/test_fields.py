from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import UserClientFactory
from tests.plan.factories import make_event, make_event_type
from tripl.core.context import TriplContext
from tripl.plan.events.models import EventFieldValue
from tripl.plan.relations.models import Relation

TYPES = "/api/v1/projects/shop/event-types"


def new_type(client: TestClient, name: str = "checkout", slug: str = "shop", **extra: Any) -> str:
    response = client.post(
        f"/api/v1/projects/{slug}/event-types", json={"name": name, "display_name": name, **extra}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def spec(name: str, field_type: str = "string", **extra: Any) -> dict[str, Any]:
    return {"name": name, "display_name": name.title(), "field_type": field_type, **extra}


def add(
    client: TestClient, type_id: str, name: str, field_type: str = "string", **extra: Any
) -> dict[str, Any]:
    response = client.post(f"{TYPES}/{type_id}/fields", json=spec(name, field_type, **extra))
    assert response.status_code == 201, response.text
    return dict(response.json())


def names(client: TestClient, type_id: str) -> list[str]:
    return [f["name"] for f in client.get(f"{TYPES}/{type_id}/fields").json()]


def test_create_appends_and_applies_defaults(
    project: dict[str, Any], editor: TestClient, owner: TestClient
) -> None:
    type_id = new_type(editor, field_definitions=[spec("total", "number", order=4)])
    coupon = add(editor, type_id, "coupon")
    assert coupon["order"] == 5 and coupon["event_type_id"] == type_id
    assert (coupon["is_required"], coupon["enum_options"], coupon["sensitivity"], coupon["description"]) == (
        False,
        None,
        "none",
        "",
    )
    assert coupon["contract_max_bad_rate"] == 0 and coupon["contract_required_max_null_rate"] is None
    first = add(editor, type_id, "aaa", order=0)
    assert first["order"] == 0
    assert names(editor, type_id) == ["aaa", "total", "coupon"]

    full = add(
        editor,
        type_id,
        "email",
        sensitivity="pii",
        is_required=True,
        contract_required_max_null_rate=0.5,
        contract_regex=r"^[^@]+@[^@]+$",
        contract_max_bad_rate=0.01,
    )
    assert full["sensitivity"] == "pii" and full["contract_regex"] == r"^[^@]+@[^@]+$"
    ranged = add(editor, type_id, "qty", "number", contract_min_value=1, contract_max_value=1)
    assert (ranged["contract_min_value"], ranged["contract_max_value"]) == (1, 1)
    assert add(editor, type_id, "blank_regex", contract_regex="  ")["contract_regex"] is None

    duplicate = editor.post(f"{TYPES}/{type_id}/fields", json=spec("coupon", "number"))
    assert duplicate.status_code == 409
    assert duplicate.json() == {"detail": "Field with this name already exists for event type"}
    actions = [e["action"] for e in owner.get("/api/v1/audit").json()["items"]]
    assert actions.count("field.create") == 5


def test_invalid_definitions_are_refused(project: dict[str, Any], editor: TestClient) -> None:
    type_id = new_type(editor)
    bad = [
        spec(""),
        spec("x" * 101),
        spec("t", "date"),
        spec("e", "enum"),
        spec("e", "enum", enum_options=[]),
        spec("e", "enum", enum_options=["a", "a"]),
        spec("s", enum_options=["a"]),
        spec("r", contract_required_max_null_rate=1.5),
        spec("r", contract_max_bad_rate=-0.1),
        spec("r", contract_max_bad_rate=None),
        spec("r", contract_regex="(unclosed"),
        spec("m", "number", contract_min_value=5, contract_max_value=4),
        spec("s", sensitivity="top-secret"),
        spec("o", order=10**12),
        {"name": "nodisplay", "field_type": "string"},
    ]
    for body in bad:
        response = editor.post(f"{TYPES}/{type_id}/fields", json=body)
        assert response.status_code == 422, (body, response.text)
    assert names(editor, type_id) == []


def test_update_is_partial_and_checks_against_stored_values(
    project: dict[str, Any], editor: TestClient
) -> None:
    type_id = new_type(editor)
    field = add(
        editor, type_id, "amount", "number", contract_min_value=0, contract_max_value=100, description="€"
    )
    url = f"{TYPES}/{type_id}/fields/{field['id']}"

    response = editor.patch(url, json={"is_required": True, "sensitivity": "financial"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["is_required"], body["sensitivity"], body["description"], body["contract_max_value"]) == (
        True,
        "financial",
        "€",
        100,
    )
    too_high = editor.patch(url, json={"contract_min_value": 101})
    assert too_high.status_code == 422 and too_high.json()["detail"][0]["loc"] == [
        "body",
        "contract_min_value",
    ]
    too_low = editor.patch(url, json={"contract_max_value": -1})
    assert too_low.status_code == 422 and too_low.json()["detail"][0]["loc"] == ["body", "contract_max_value"]
    assert editor.patch(url, json={"contract_max_value": None, "contract_min_value": 500}).status_code == 200

    for bad in (
        {"is_required": None},
        {"field_type": None},
        {"order": None},
        {"contract_max_bad_rate": None},
        {"display_name": None},
        {"contract_max_bad_rate": 2},
        {"contract_regex": "[z-a]"},
        {"name": "total"},
        {"field_type": "enum"},
        {"enum_options": ["a"]},
    ):
        assert editor.patch(url, json=bad).status_code == 422, bad
    assert editor.patch(url, json={"name": "amount", "description": None}).json()["description"] == ""

    as_enum = editor.patch(url, json={"field_type": "enum", "enum_options": ["1", "2"]}).json()
    assert as_enum["enum_options"] == ["1", "2"]
    assert editor.patch(url, json={"enum_options": []}).status_code == 422
    assert editor.patch(url, json={"is_required": False}).json()["enum_options"] == ["1", "2"]
    back = editor.patch(url, json={"field_type": "string"}).json()
    assert back["field_type"] == "string" and back["enum_options"] is None
    final = editor.get(f"{TYPES}/{type_id}/fields").json()[0]
    assert (final["name"], final["contract_min_value"], final["contract_max_value"]) == ("amount", 500, None)


def test_bulk_create_skips_existing_names_and_is_all_or_nothing(
    project: dict[str, Any], editor: TestClient, owner: TestClient
) -> None:
    type_id = new_type(editor, field_definitions=[spec("id", "number")])
    bulk = f"{TYPES}/{type_id}/fields/bulk"
    response = editor.post(bulk, json={"fields": [spec("id", "string"), spec("b"), spec("a")]})
    assert response.status_code == 201, response.text
    assert [(f["name"], f["field_type"], f["order"]) for f in response.json()] == [
        ("id", "number", 0),
        ("b", "string", 1),
        ("a", "string", 2),
    ]
    assert editor.post(bulk, json={"fields": [spec("c"), spec("c")]}).status_code == 422
    assert editor.post(bulk, json={"fields": [spec("c"), spec("d", "enum")]}).status_code == 422
    assert editor.post(bulk, json={"fields": []}).status_code == 422
    assert names(editor, type_id) == ["id", "b", "a"]
    audit_rows = owner.get("/api/v1/audit", params={"action": "field.bulk_create"}).json()["items"]
    assert [r["payload"] for r in audit_rows] == [{"created": ["b", "a"], "skipped": ["id"]}]


def test_reorder_sets_order_to_position(project: dict[str, Any], editor: TestClient) -> None:
    type_id = new_type(editor, field_definitions=[spec("a"), spec("b"), spec("c")])
    fields = {f["name"]: f["id"] for f in editor.get(f"{TYPES}/{type_id}/fields").json()}
    url = f"{TYPES}/{type_id}/fields/reorder"
    response = editor.patch(url, json={"field_ids": [fields["c"], fields["a"], fields["b"]]})
    assert response.status_code == 200, response.text
    assert [(f["name"], f["order"]) for f in response.json()] == [("c", 0), ("a", 1), ("b", 2)]
    partial = editor.patch(url, json={"field_ids": [fields["b"]]}).json()
    assert [(f["name"], f["order"]) for f in partial] == [("b", 0), ("c", 1), ("a", 2)]

    other_type = new_type(editor, "other", field_definitions=[spec("x")])
    foreign = editor.get(f"{TYPES}/{other_type}/fields").json()[0]["id"]
    assert editor.patch(url, json={"field_ids": [fields["a"], foreign]}).status_code == 400
    assert editor.patch(url, json={"field_ids": [fields["a"], fields["a"]]}).status_code == 400
    assert editor.patch(url, json={"field_ids": ["not-a-uuid"]}).status_code == 422
    assert names(editor, type_id) == ["b", "c", "a"]


def test_delete_removes_values_and_relations(
    project: dict[str, Any], editor: TestClient, context: TriplContext
) -> None:
    event_type, (keep, drop) = make_event_type(
        context, project["id"], "order", [{"name": "keep"}, {"name": "drop"}]
    )
    make_event(context, event_type, "Order placed", {keep: "1", drop: "2"})
    with context.db.transaction() as db:
        db.add(
            Relation(
                project_id=event_type.project_id,
                branch_id=event_type.branch_id,
                source_event_type_id=event_type.id,
                source_field_id=drop.id,
                target_event_type_id=event_type.id,
                target_field_id=keep.id,
            )
        )
    url = f"{TYPES}/{event_type.id}/fields/{drop.id}"
    assert editor.delete(url).status_code == 204
    assert editor.delete(url).status_code == 404
    assert names(editor, str(event_type.id)) == ["keep"]
    with context.db.sessions() as db:
        assert db.scalar(select(func.count()).select_from(EventFieldValue)) == 1
        assert db.scalar(select(func.count()).select_from(Relation)) == 0


def test_permissions_and_foreign_ids(
    project: dict[str, Any], owner: TestClient, viewer: TestClient, key_client: UserClientFactory
) -> None:
    type_id = new_type(owner, field_definitions=[spec("a")])
    field_id = owner.get(f"{TYPES}/{type_id}/fields").json()[0]["id"]
    base = f"{TYPES}/{type_id}/fields"
    writes = [
        ("post", base, spec("b")),
        ("post", f"{base}/bulk", {"fields": [spec("b")]}),
        ("patch", f"{base}/reorder", {"field_ids": [field_id]}),
        ("patch", f"{base}/{field_id}", {"description": "x"}),
        ("delete", f"{base}/{field_id}", None),
    ]
    for client in (viewer, key_client("owner", "read")):
        assert client.get(base).status_code == 200
        for method, url, body in writes:
            kwargs = {"json": body} if body is not None else {}
            assert getattr(client, method)(url, **kwargs).status_code == 403, (method, url)
    assert names(owner, type_id) == ["a"]

    owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"})
    other_type = new_type(owner, "other", slug="other", field_definitions=[spec("z")])
    other_field = owner.get(f"/api/v1/projects/other/event-types/{other_type}/fields").json()[0]["id"]
    assert owner.get(f"{TYPES}/{other_type}/fields").status_code == 404
    assert owner.post(f"{TYPES}/{other_type}/fields", json=spec("b")).status_code == 404
    assert owner.patch(f"{base}/{other_field}", json={"description": "x"}).status_code == 404
    assert owner.delete(f"{base}/{other_field}").status_code == 404
    sibling = new_type(owner, "sibling", field_definitions=[spec("s")])
    sibling_field = owner.get(f"{TYPES}/{sibling}/fields").json()[0]["id"]
    assert owner.patch(f"{base}/{sibling_field}", json={"description": "x"}).status_code == 404
