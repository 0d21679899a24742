from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tripl.app import create_app
from tripl.core.deps import DbSession
from tripl.plan.projects.models import Project


def test_health_reports_the_database(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_health_is_503_when_the_database_is_unreachable(tmp_path: object) -> None:
    app = create_app(make_settings(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none"))  # type: ignore[arg-type]
    response = TestClient(app).get("/health")
    assert response.status_code == 503 and response.json()["status"] != "ok"


def test_unexpected_errors_are_500_without_internals_and_carry_the_request_id(app: FastAPI) -> None:
    def explode() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app.add_api_route("/api/v1/_explode", explode, methods=["GET"])
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/api/v1/_explode", headers={"x-request-id": "req-123"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "request_id": "req-123"}
    assert "hunter2" not in response.text


def test_request_ids_are_echoed_or_minted(client: TestClient) -> None:
    assert client.get("/health", headers={"x-request-id": "abc"}).headers["x-request-id"] == "abc"
    minted = client.get("/health").headers["x-request-id"]
    assert len(minted) == 32


def test_bad_input_is_a_clear_4xx(owner: TestClient) -> None:
    broken_json = owner.post(
        "/api/v1/projects", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken_json.status_code == 422 and isinstance(broken_json.json()["detail"], list)
    wrong_slug = owner.post("/api/v1/projects", json={"name": "x", "slug": "Not A Slug"})
    assert wrong_slug.status_code == 422
    assert wrong_slug.json()["detail"][0]["loc"] == ["body", "slug"]
    assert owner.patch("/api/v1/projects/nope", json={"name": "x"}).status_code == 404


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "tripl"
    assert "/api/v1/auth/login" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_a_uniqueness_race_is_a_409_not_a_500(app: FastAPI, owner: TestClient) -> None:
    """Two requests can both pass a service's "is the slug free?" check; the database decides."""

    def insert_twice(db: DbSession) -> None:
        db.add(Project(name="a", slug="race"))
        db.flush()
        db.add(Project(name="b", slug="race"))
        db.flush()

    app.add_api_route("/api/v1/_race", insert_twice, methods=["GET"])
    response = TestClient(app, raise_server_exceptions=False).get("/api/v1/_race")
    assert response.status_code == 409 and "conflicts" in response.json()["detail"]
    assert owner.get("/api/v1/projects").json() == []
