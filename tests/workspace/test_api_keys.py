from __future__ import annotations

import re
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.conftest import ORIGIN, UserClientFactory
from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.core.security import sha256_hex
from tripl.workspace.api_keys.models import ApiKey

KEYS = "/api/v1/me/api-keys"


def bearer(client: TestClient, token: str) -> TestClient:
    return TestClient(client.app, base_url=ORIGIN, headers={"authorization": f"Bearer {token}"})


def create(client: TestClient, **body: object) -> dict[str, object]:
    response = client.post(KEYS, json={"name": "ci", **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_token_is_shown_once_and_only_its_hash_is_stored(editor: TestClient, context: TriplContext) -> None:
    created = create(editor, name="  deploy bot  ", scope="write", expires_in_days=30)
    token = str(created["token"])
    assert re.fullmatch(r"tk_w_[A-Za-z0-9_-]{32}", token)
    assert created["key_prefix"] == token[:11] and created["name"] == "deploy bot"
    assert created["expires_at"] is not None and created["project_id"] is None
    listed = editor.get(KEYS).json()
    assert [k["id"] for k in listed] == [created["id"]] and "token" not in listed[0]
    with context.db.sessions() as db:
        stored = db.scalars(select(ApiKey)).one()
    assert stored.token_hash == sha256_hex(token) and token not in stored.token_hash
    assert create(editor)["scope"] == "read"  # the default scope


def test_key_validation(editor: TestClient) -> None:
    for body in (
        {"name": "   "},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "k", "expires_in_days": 0},
        {"name": "k", "scope": "admin"},
    ):
        assert editor.post(KEYS, json=body).status_code == 422, body
    missing = editor.post(KEYS, json={"name": "k", "project_slug": "nope"})
    assert missing.status_code == 404 and missing.json() == {"detail": "Project not found"}


def test_keys_act_as_their_user_and_record_last_use(editor: TestClient) -> None:
    token = str(create(editor, scope="write")["token"])
    script = bearer(editor, token)
    me = script.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["email"] == "editor@example.com"
    assert editor.get(KEYS).json()[0]["last_used_at"] is not None
    # No Origin header needed: a key is not an ambient browser credential.
    assert script.post("/api/v1/projects", json={"name": "P", "slug": "p"}).status_code == 201


def test_read_keys_cannot_write_and_write_keys_keep_the_users_role(
    editor: TestClient, viewer: TestClient
) -> None:
    read_only = bearer(editor, str(create(editor, scope="read")["token"]))
    assert read_only.get("/api/v1/projects").status_code == 200
    refused = read_only.post("/api/v1/projects", json={"name": "P", "slug": "p"})
    assert refused.status_code == 403 and refused.json() == {"detail": "API key has read-only scope"}
    assert read_only.post(KEYS, json={"name": "more"}).status_code == 403

    viewer_write = bearer(viewer, str(create(viewer, scope="write")["token"]))
    refused = viewer_write.post("/api/v1/projects", json={"name": "P", "slug": "p"})
    assert refused.status_code == 403 and refused.json() == {"detail": "Editor role required"}


def test_revoked_expired_and_unknown_keys_are_refused(editor: TestClient, context: TriplContext) -> None:
    created = create(editor, scope="write")
    script = bearer(editor, str(created["token"]))
    assert script.get("/api/v1/auth/me").status_code == 200

    assert editor.delete(f"{KEYS}/{created['id']}").status_code == 204
    revoked = script.get("/api/v1/auth/me")
    assert revoked.status_code == 401 and revoked.json() == {"detail": "Invalid or expired API key"}
    assert editor.delete(f"{KEYS}/{created['id']}").status_code == 204  # idempotent
    assert editor.get(KEYS).json()[0]["revoked_at"] is not None  # kept and listed

    expiring = create(editor, expires_in_days=1)
    with context.db.transaction() as db:
        db.execute(
            update(ApiKey)
            .where(ApiKey.id == uuid.UUID(str(expiring["id"])))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    assert bearer(editor, str(expiring["token"])).get("/api/v1/auth/me").status_code == 401

    for token in ("tk_r_" + "x" * 32, "not-a-tripl-key"):
        assert bearer(editor, token).get("/api/v1/auth/me").status_code == 401
    # A bad Bearer header is authoritative: the browser cookie is not used as a fallback.
    editor.headers["authorization"] = "Bearer tk_r_nope"
    assert editor.get("/api/v1/auth/me").status_code == 401


def test_users_manage_only_their_own_keys(editor: TestClient, viewer: TestClient) -> None:
    created = create(editor)
    missing = viewer.delete(f"{KEYS}/{created['id']}")
    assert missing.status_code == 404 and missing.json() == {"detail": "API key not found"}
    assert viewer.get(KEYS).json() == []
    assert bearer(editor, str(created["token"])).get("/api/v1/auth/me").status_code == 200


def test_project_bound_key_reaches_only_its_project(owner: TestClient, key_client: UserClientFactory) -> None:
    for slug in ("shop", "blog"):
        assert owner.post("/api/v1/projects", json={"name": slug, "slug": slug}).status_code == 201
    bound = create(owner, scope="write", project_slug="shop")
    assert bound["project_id"] == owner.get("/api/v1/projects/shop").json()["id"]
    script = bearer(owner, str(bound["token"]))

    assert script.get("/api/v1/projects/shop").status_code == 200
    other = script.get("/api/v1/projects/blog")
    assert other.status_code == 403 and other.json() == {
        "detail": "API key is not authorized for this project"
    }
    for path in ("/api/v1/auth/me", "/api/v1/projects", "/api/v1/users", KEYS):
        instance = script.get(path)
        assert instance.status_code == 403, path
        assert instance.json() == {"detail": "API key is scoped to a single project"}
    assert script.patch("/api/v1/projects/blog", json={"name": "hijack"}).status_code == 403
    assert owner.get("/api/v1/projects/blog").json()["name"] == "blog"
