from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import UserClientFactory
from tripl.core.db import utcnow
from tripl.workspace.audit.service import mask_secrets

AUDIT = "/api/v1/audit"


def audit(client: TestClient, **params: object) -> dict[str, object]:
    response = client.get(AUDIT, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_mutations_leave_one_row_each_newest_first(owner: TestClient, viewer: TestClient) -> None:
    owner.post("/api/v1/projects", json={"name": "Shop", "slug": "shop"})
    viewer_id = viewer.get("/api/v1/auth/me").json()["id"]
    owner.patch(f"/api/v1/users/{viewer_id}", json={"role": "editor"})
    key = owner.post("/api/v1/me/api-keys", json={"name": "bot", "scope": "write"}).json()

    page = audit(owner, limit=200)
    actions = [e["action"] for e in page["items"]]  # type: ignore[union-attr]
    assert actions[:3] == ["api_key.create", "user.role_update", "project.create"]
    assert page["total"] == len(actions)
    create_row = page["items"][2]  # type: ignore[index]
    assert create_row["project_slug"] == "shop" and create_row["user_email"] == "owner@example.com"
    assert create_row["target_type"] == "project" and create_row["target_name"] == "Shop"
    role_row = page["items"][1]  # type: ignore[index]
    assert role_row["payload"] == {"from": "viewer", "to": "editor"} and role_row["target_id"] == viewer_id
    assert key["token"] not in str(page)


def test_failed_mutations_write_nothing(owner: TestClient) -> None:
    assert owner.post("/api/v1/projects", json={"name": "Shop", "slug": "shop"}).status_code == 201
    before = audit(owner)["total"]
    assert owner.post("/api/v1/projects", json={"name": "Again", "slug": "shop"}).status_code == 409
    assert audit(owner)["total"] == before
    assert [p["name"] for p in owner.get("/api/v1/projects").json()] == ["Shop"]


def test_filters_and_pagination(owner: TestClient, user_client: UserClientFactory) -> None:
    editor = user_client("editor", "ed.itor@example.com")
    for slug in ("a", "b", "c"):
        editor.post("/api/v1/projects", json={"name": slug, "slug": slug})
    editor_id = editor.get("/api/v1/auth/me").json()["id"]

    by_action = audit(owner, action="project.create")
    assert by_action["total"] == 3
    assert {e["project_slug"] for e in by_action["items"]} == {"a", "b", "c"}  # type: ignore[union-attr]
    assert audit(owner, project_slug="b")["total"] == 1
    assert audit(owner, user_email="ED.ITOR")["total"] == audit(owner, user_id=editor_id)["total"] >= 3
    assert audit(owner, user_email="%")["total"] == 0  # LIKE wildcards are literal
    page = audit(owner, action="project.create", limit=2, offset=2)
    assert page["total"] == 3 and len(page["items"]) == 1  # type: ignore[arg-type]
    future = (utcnow() + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert audit(owner, since=future)["total"] == 0
    assert audit(owner, until=future)["total"] == audit(owner)["total"]
    assert owner.get(AUDIT, params={"limit": 201}).status_code == 422
    assert owner.get(AUDIT, params={"user_id": "nope"}).status_code == 422


def test_audit_is_for_owners(owner: TestClient, editor: TestClient, viewer: TestClient) -> None:
    for client in (editor, viewer):
        refused = client.get(AUDIT)
        assert refused.status_code == 403 and refused.json() == {"detail": "Owner role required"}


def test_secret_looking_payload_keys_are_masked() -> None:
    payload = {
        "name": "prod",
        "password": "hunter22",
        "config": {"api_token": "abc", "bot_token_set": True, "items": [{"client_secret": "s"}]},
        "credentials_json": "{...}",
        "webhook_url": "https://hooks.slack.com/services/x",
        "empty_password": "",
    }
    assert mask_secrets(payload) == {
        "name": "prod",
        "password": "***",
        "config": {"api_token": "***", "bot_token_set": True, "items": [{"client_secret": "***"}]},
        "credentials_json": "***",
        "webhook_url": "***",
        "empty_password": "",
    }
