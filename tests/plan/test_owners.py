from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import UserClientFactory

TYPES = "/api/v1/projects/shop/event-types"


def new_type(client: TestClient, name: str = "checkout", slug: str = "shop") -> str:
    response = client.post(f"/api/v1/projects/{slug}/event-types", json={"name": name, "display_name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def me(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/api/v1/auth/me").json())


def test_add_list_and_remove_owners(
    project: dict[str, Any], editor: TestClient, viewer: TestClient, owner: TestClient
) -> None:
    type_id = new_type(editor)
    url = f"{TYPES}/{type_id}/owners"
    assert editor.get(url).json() == []
    viewer_user, editor_user = me(viewer), me(editor)

    added = editor.post(url, json={"user_id": viewer_user["id"]})
    assert added.status_code == 201, added.text
    row = added.json()
    assert (row["event_type_id"], row["user_id"], row["user_email"], row["user_name"], row["granted_by"]) == (
        type_id,
        viewer_user["id"],
        "viewer@example.com",
        "viewer",
        editor_user["id"],
    )
    again = editor.post(url, json={"user_id": viewer_user["id"]})
    assert again.status_code == 201 and again.json() == row
    second = owner.post(url, json={"user_id": editor_user["id"]}).json()
    assert second["granted_by"] == me(owner)["id"]

    listed = viewer.get(url).json()
    assert [o["user_email"] for o in listed] == ["viewer@example.com", "editor@example.com"]
    assert listed[0] == row

    assert editor.delete(f"{url}/{row['id']}").status_code == 204
    assert editor.delete(f"{url}/{row['id']}").status_code == 404
    assert [o["id"] for o in editor.get(url).json()] == [second["id"]]
    # The ownership row id is wanted, not the user id.
    assert editor.delete(f"{url}/{editor_user['id']}").status_code == 404

    actions = [e["action"] for e in owner.get("/api/v1/audit").json()["items"]]
    assert actions.count("event_type_owner.add") == 2 and actions.count("event_type_owner.remove") == 1


def test_unknown_users_types_and_foreign_rows(project: dict[str, Any], owner: TestClient) -> None:
    type_id = new_type(owner)
    url = f"{TYPES}/{type_id}/owners"
    missing = owner.post(url, json={"user_id": str(uuid.uuid4())})
    assert missing.status_code == 404 and missing.json() == {"detail": "User not found"}
    assert owner.post(url, json={"user_id": "nope"}).status_code == 422
    assert owner.get(f"{TYPES}/{uuid.uuid4()}/owners").status_code == 404

    sibling = new_type(owner, "sibling")
    row = owner.post(f"{TYPES}/{sibling}/owners", json={"user_id": me(owner)["id"]}).json()
    assert owner.delete(f"{url}/{row['id']}").status_code == 404
    assert len(owner.get(f"{TYPES}/{sibling}/owners").json()) == 1

    owner.post("/api/v1/projects", json={"name": "Other", "slug": "other"})
    foreign = new_type(owner, "foreign", slug="other")
    assert owner.get(f"{TYPES}/{foreign}/owners").status_code == 404
    assert owner.post(f"{TYPES}/{foreign}/owners", json={"user_id": me(owner)["id"]}).status_code == 404


def test_viewers_and_read_keys_cannot_change_owners(
    project: dict[str, Any], owner: TestClient, viewer: TestClient, key_client: UserClientFactory
) -> None:
    type_id = new_type(owner)
    url = f"{TYPES}/{type_id}/owners"
    row = owner.post(url, json={"user_id": me(owner)["id"]}).json()
    for client in (viewer, key_client("owner", "read")):
        assert client.post(url, json={"user_id": me(owner)["id"]}).status_code == 403
        assert client.delete(f"{url}/{row['id']}").status_code == 403
        assert len(client.get(url).json()) == 1
