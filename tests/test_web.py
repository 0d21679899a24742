"""The built web UI is served at "/" with SPA fallback, long-cached hashed assets and JSON API 404s."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tripl.web_static import WEB_DIR, mount_web

INDEX = "<!doctype html><div id=root></div><script src=/assets/index-abc123.js></script>"


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('tripl')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("outside the web dir")
    return tmp_path


@pytest.fixture
def web(web_dir: Path) -> TestClient:
    app = FastAPI()

    @app.get("/api/v1/things")
    def things() -> list[str]:
        return ["a"]

    mount_web(app, web_dir)
    return TestClient(app)


def test_root_and_client_routes_answer_the_app_shell_uncached(web: TestClient) -> None:
    for path in ("/", "/login", "/p/shop/events", "/p/shop/events/1b2c?status=live&page=2"):
        response = web.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_cached_for_a_year(web: TestClient) -> None:
    response = web.get("/assets/index-abc123.js")
    assert response.status_code == 200 and response.text == "console.log('tripl')"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in response.headers["content-type"]


def test_unhashed_public_files_are_revalidated(web: TestClient) -> None:
    response = web.get("/favicon.svg")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-cache"


def test_missing_asset_is_404_not_the_app_shell(web: TestClient) -> None:
    response = web.get("/assets/index-old999.js")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


def test_api_routes_win_and_unknown_api_paths_stay_json_404(web: TestClient) -> None:
    assert web.get("/api/v1/things").json() == ["a"]
    for path in ("/api/v1/nope", "/api/v1/projects/x/unknown", "/api", "/openapi.json.bak"):
        response = web.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not Found"}


def test_files_outside_the_web_dir_are_unreachable(web: TestClient) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        response = web.get(path)
        assert "outside the web dir" not in response.text, path


def test_head_requests_are_answered(web: TestClient) -> None:
    response = web.head("/p/shop/events")
    assert response.status_code == 200 and response.text == ""


def test_without_a_build_the_root_explains_how_to_build(tmp_path: Path) -> None:
    app = FastAPI()
    mount_web(app, tmp_path / "missing")
    response = TestClient(app).get("/")
    assert response.status_code == 503 and "not built" in response.text


def test_the_real_app_serves_the_committed_build_next_to_the_api(client: TestClient) -> None:
    assert (WEB_DIR / "index.html").is_file(), "run: cd frontend && npm ci && npm run build"
    page = client.get("/p/demo/events")
    assert page.status_code == 200 and '<div id="root">' in page.text
    asset = page.text.split('src="')[1].split('"')[0]
    assert asset.startswith("/assets/")
    loaded = client.get(asset)
    assert loaded.status_code == 200 and "immutable" in loaded.headers["cache-control"]
    assert client.get("/api/v1/does-not-exist").json() == {"detail": "Not Found"}
    assert client.get("/api/v1/projects").status_code == 401
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/openapi.json").json()["info"]["title"] == "tripl"
    assert "/{path}" not in client.get("/openapi.json").json()["paths"]
