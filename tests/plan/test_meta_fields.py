from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import UserClientFactory
from tests.plan.factories import make_event, make_event_type
from tripl.core.context import TriplContext
from tripl.plan.branches.models import BranchKind, BranchStatus, PlanBranch
from tripl.plan.events.models import EventMetaValue

META = "/api/v1/projects/shop/meta-fields"


def spec(name: str, field_type: str = "string", **extra: Any) -> dict[str, Any]:
    return {"name": name, "display_name": name.title(), "field_type": field_type, **extra}


def create(
    client: TestClient, name: str, field_type: str = "string", url: str = META, **extra: Any
) -> dict[str, Any]:
    response = client.post(url, json=spec(name, field_type, **extra))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_create_with_defaults_appends_and_lists_in_order(
    project: dict[str, Any], editor: TestClient, owner: TestClient
) -> None:
    jira = create(editor, "jira", "url", link_template="  https://jira.example.com/browse/{value}  ")
    assert jira["project_id"] == project["id"]
    assert jira["link_template"] == "https://jira.example.com/browse/{value}"
    assert (
        jira["order"],
        jira["is_required"],
        jira["enum_options"],
        jira["default_value"],
        jira["sensitivity"],
    ) == (0, False, None, None, "none")
    team = create(editor, "team", "enum", enum_options=["web", "ios"], default_value="web", is_required=True)
    assert team["order"] == 1 and team["enum_options"] == ["web", "ios"] and team["default_value"] == "web"
    dollar = create(
        editor, "docs", "url", link_template="https://docs/${value}", order=0, sensitivity="secret"
    )
    assert dollar["link_template"] == "https://docs/${value}" and dollar["sensitivity"] == "secret"
    assert create(editor, "note", link_template="   ")["link_template"] is None

    assert [m["name"] for m in editor.get(META).json()] == ["docs", "jira", "team", "note"]
    duplicate = editor.post(META, json=spec("jira", "string"))
    assert duplicate.status_code == 409
    actions = [e["action"] for e in owner.get("/api/v1/audit").json()["items"]]
    assert actions.count("meta_field.create") == 4


def test_invalid_definitions_are_refused(project: dict[str, Any], editor: TestClient) -> None:
    bad = [
        spec(""),
        spec("x" * 101),
        spec("n", "number"),
        spec("e", "enum"),
        spec("e", "enum", enum_options=["a", "a"]),
        spec("e", "enum", enum_options=["a"], default_value="b"),
        spec("s", enum_options=["a"]),
        spec("l", "url", link_template="https://jira.example.com/browse/"),
        spec("l", "url", link_template="https://x/{value}" + "x" * 2000),
        spec("s", sensitivity="public"),
        spec("s", is_required=None),
        {"name": "nodisplay", "field_type": "string"},
    ]
    for body in bad:
        response = editor.post(META, json=body)
        assert response.status_code == 422, (body, response.text)
    assert editor.get(META).json() == []


def test_update_is_partial_and_validated_against_stored_values(
    project: dict[str, Any], editor: TestClient
) -> None:
    team = create(editor, "team", "enum", enum_options=["web", "ios"], default_value="web")
    url = f"{META}/{team['id']}"
    response = editor.patch(url, json={"display_name": "Owning team", "is_required": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["display_name"], body["is_required"], body["enum_options"], body["default_value"]) == (
        "Owning team",
        True,
        ["web", "ios"],
        "web",
    )
    for bad in (
        {"enum_options": ["ios"]},
        {"default_value": "android"},
        {"enum_options": []},
        {"name": "squad"},
        {"display_name": None},
        {"field_type": None},
        {"order": None},
        {"sensitivity": None},
        {"is_required": None},
        {"link_template": "no placeholder"},
    ):
        assert editor.patch(url, json=bad).status_code == 422, bad
    assert (
        editor.patch(url, json={"enum_options": ["ios", "android"], "default_value": "ios"}).status_code
        == 200
    )
    as_url = editor.patch(
        url, json={"field_type": "url", "link_template": "https://t/{value}", "default_value": None}
    )
    assert as_url.status_code == 200, as_url.text
    assert (as_url.json()["enum_options"], as_url.json()["link_template"]) == (None, "https://t/{value}")
    cleared = editor.patch(url, json={"link_template": None, "name": "team"}).json()
    assert cleared["link_template"] is None and cleared["name"] == "team"
    assert editor.patch(url, json={"field_type": "enum"}).status_code == 422


def test_delete_removes_event_values(
    project: dict[str, Any], editor: TestClient, context: TriplContext
) -> None:
    meta = create(editor, "team")
    event_type, _ = make_event_type(context, project["id"], "view")
    event = make_event(context, event_type, "Viewed")
    with context.db.transaction() as db:
        db.add(EventMetaValue(event_id=event.id, meta_field_definition_id=uuid.UUID(meta["id"]), value="web"))
    assert editor.delete(f"{META}/{meta['id']}").status_code == 204
    assert editor.delete(f"{META}/{meta['id']}").status_code == 404
    assert editor.patch(f"{META}/{meta['id']}", json={"display_name": "x"}).status_code == 404
    with context.db.sessions() as db:
        assert db.scalar(select(func.count()).select_from(EventMetaValue)) == 0


def test_permissions_branches_and_foreign_ids(
    project: dict[str, Any],
    owner: TestClient,
    viewer: TestClient,
    key_client: UserClientFactory,
    context: TriplContext,
) -> None:
    meta = create(owner, "team")
    url = f"{META}/{meta['id']}"
    for client in (viewer, key_client("owner", "read")):
        assert client.post(META, json=spec("other")).status_code == 403
        assert client.patch(url, json={"display_name": "x"}).status_code == 403
        assert client.delete(url).status_code == 403
        assert len(client.get(META).json()) == 1

    owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"})
    foreign = create(owner, "team", url="/api/v1/projects/other/meta-fields")
    assert owner.patch(f"{META}/{foreign['id']}", json={"display_name": "x"}).status_code == 404
    assert owner.delete(f"{META}/{foreign['id']}").status_code == 404

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
    on_branch = create(owner, "team", url=f"{META}?branch={branch_id}")
    assert [m["id"] for m in owner.get(META, params={"branch": branch_id}).json()] == [on_branch["id"]]
    assert owner.delete(f"{META}/{on_branch['id']}").status_code == 404
    assert owner.delete(f"{META}/{on_branch['id']}", params={"branch": branch_id}).status_code == 204
    assert [m["id"] for m in owner.get(META).json()] == [meta["id"]]
