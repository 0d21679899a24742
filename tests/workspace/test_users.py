from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import UserClientFactory


def users(client: TestClient, **params: object) -> list[dict[str, object]]:
    response = client.get("/api/v1/users", params=params)
    assert response.status_code == 200, response.text
    return list(response.json())


def test_any_signed_in_user_reads_the_roster_in_creation_order(
    owner: TestClient, viewer: TestClient, editor: TestClient
) -> None:
    emails = [u["email"] for u in users(viewer)]
    assert emails == ["owner@example.com", "viewer@example.com", "editor@example.com"]
    assert set(users(viewer)[0]) == {"id", "email", "name", "role", "created_at"}
    assert [u["email"] for u in users(viewer, limit=1, offset=1)] == ["viewer@example.com"]
    assert viewer.get("/api/v1/users", params={"limit": 0}).status_code == 422
    assert viewer.get("/api/v1/users", params={"limit": 1001}).status_code == 422
    assert TestClient(owner.app).get("/api/v1/users").status_code == 401


def test_only_owners_change_roles(owner: TestClient, viewer: TestClient, editor: TestClient) -> None:
    target = next(u for u in users(owner) if u["email"] == "viewer@example.com")
    for caller in (viewer, editor):
        refused = caller.patch(f"/api/v1/users/{target['id']}", json={"role": "owner"})
        assert refused.status_code == 403 and refused.json() == {"detail": "Owner role required"}
    promoted = owner.patch(f"/api/v1/users/{target['id']}", json={"role": "editor"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "editor"
    assert owner.patch(f"/api/v1/users/{target['id']}", json={"role": "admin"}).status_code == 422
    missing = owner.patch("/api/v1/users/00000000-0000-0000-0000-000000000000", json={"role": "viewer"})
    assert missing.status_code == 404 and missing.json() == {"detail": "User not found"}
    assert owner.patch("/api/v1/users/not-a-uuid", json={"role": "viewer"}).status_code == 422


def test_role_change_signs_the_user_out_everywhere(owner: TestClient, viewer: TestClient) -> None:
    target = next(u for u in users(owner) if u["email"] == "viewer@example.com")
    assert viewer.get("/api/v1/auth/me").status_code == 200
    owner.patch(f"/api/v1/users/{target['id']}", json={"role": "editor"})
    assert viewer.get("/api/v1/auth/me").status_code == 401


def test_last_owner_cannot_be_demoted(owner: TestClient, user_client: UserClientFactory) -> None:
    me = owner.get("/api/v1/auth/me").json()
    refused = owner.patch(f"/api/v1/users/{me['id']}", json={"role": "editor"})
    assert refused.status_code == 400 and refused.json() == {"detail": "Cannot demote the last owner"}

    second = user_client("owner", "second-owner@example.com")
    second_id = second.get("/api/v1/auth/me").json()["id"]
    assert owner.patch(f"/api/v1/users/{second_id}", json={"role": "viewer"}).status_code == 200
    assert owner.patch(f"/api/v1/users/{me['id']}", json={"role": "viewer"}).status_code == 400
