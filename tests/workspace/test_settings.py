from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import PASSWORD, UserClientFactory, new_client
from tripl.core.context import TriplContext
from tripl.core.ratelimit import MemoryRateLimiter
from tripl.workspace.audit.models import AuditEntry
from tripl.workspace.settings.models import SettingOverride

SETTINGS = "/api/v1/settings"
AI = "/api/v1/settings/ai"
AI_TEST = "/api/v1/settings/ai/test"


def patch(client: TestClient, body: dict[str, Any], method: str = "PATCH") -> dict[str, Any]:
    response = client.request(method, SETTINGS, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def stored_overrides(context: TriplContext) -> dict[str, Any]:
    with context.db.sessions() as db:
        return {row.key: row.value for row in db.scalars(select(SettingOverride))}


def test_defaults_and_environment_are_reported_with_their_source(owner: TestClient) -> None:
    body = owner.get(SETTINGS).json()
    assert set(body) == {
        "runtime",
        "security",
        "storage",
        "observability",
        "email",
        "ai",
        "system",
        "overridden_fields",
        "sources",
    }
    assert body["overridden_fields"] == []
    # The test harness configures these two limits through Settings, i.e. "the environment".
    assert body["security"]["rate_limit_login_per_minute"] == 10_000
    assert body["sources"]["security.rate_limit_login_per_minute"] == "env"
    assert body["security"]["registration_mode"] == "open"
    assert body["sources"]["security.registration_mode"] == "default"
    assert body["runtime"]["app_base_url"] == "" and body["sources"]["runtime.app_base_url"] == "default"
    assert body["storage"]["photo_max_size_mb"] == 10
    assert body["ai"]["ai_model"] == "gpt-4o-mini" and body["ai"]["ai_enabled"] is False
    assert body["ai"]["ai_api_key_configured"] is False
    assert body["email"]["smtp_password_configured"] is False and body["email"]["smtp_security"] == "starttls"
    assert "ai_api_key" not in body["ai"] and "smtp_password" not in body["email"]
    system = body["system"]
    assert system["database_url_configured"] is True and system["redis_url_configured"] is False
    # Tests build tables without Alembic: no recorded revision, so not up to date.
    assert system["alembic_revision"] is None and system["alembic_up_to_date"] is False
    assert isinstance(system["alembic_head_revision"], str) and system["alembic_head_revision"]
    assert all(not key.startswith("system.") for key in body["sources"])


def test_only_owners_read_and_write_settings(
    client: TestClient, user_client: UserClientFactory, key_client: UserClientFactory
) -> None:
    assert client.get(SETTINGS).status_code == 401
    for role in ("viewer", "editor"):
        browser = user_client(role)
        assert browser.get(SETTINGS).status_code == 403
        assert browser.get(AI).status_code == 403
        assert browser.patch(SETTINGS, json={"runtime": {"scan_row_limit_default": 5}}).status_code == 403
        assert browser.put(AI, json={"ai_enabled": True}).status_code == 403
        assert browser.post(AI_TEST, json={}).status_code == 403
    read_key = key_client("owner", "read")
    assert read_key.get(SETTINGS).status_code == 200
    assert read_key.patch(SETTINGS, json={"runtime": {"scan_row_limit_default": 5}}).status_code == 403
    write_key = key_client("owner", "write")
    assert write_key.patch(SETTINGS, json={"runtime": {"scan_row_limit_default": 5}}).status_code == 200


def test_put_and_patch_are_sparse_upserts_and_null_removes_an_override(
    owner: TestClient, context: TriplContext
) -> None:
    body = patch(
        owner,
        {"security": {"session_ttl_hours": 24}, "runtime": {"app_base_url": "https://tripl.example.com"}},
    )
    assert body["security"]["session_ttl_hours"] == 24
    assert body["runtime"]["app_base_url"] == "https://tripl.example.com"
    assert body["overridden_fields"] == ["runtime.app_base_url", "security.session_ttl_hours"]
    assert body["sources"]["security.session_ttl_hours"] == "override"

    body = patch(owner, {"storage": {"photo_max_size_mb": 3}}, method="PUT")
    assert body["storage"]["photo_max_size_mb"] == 3
    assert body["security"]["session_ttl_hours"] == 24, "PUT must not reset fields it does not name"
    assert len(body["overridden_fields"]) == 3

    body = patch(owner, {"security": {"session_ttl_hours": None}, "runtime": None})
    assert body["security"]["session_ttl_hours"] == 168
    assert body["sources"]["security.session_ttl_hours"] == "default"
    assert body["runtime"]["app_base_url"] == "https://tripl.example.com", "a null section changes nothing"
    assert stored_overrides(context) == {
        "runtime.app_base_url": "https://tripl.example.com",
        "storage.photo_max_size_mb": 3,
    }
    # Removing an override of an env-set field falls back to the environment value.
    patch(owner, {"security": {"rate_limit_login_per_minute": 7}})
    body = patch(owner, {"security": {"rate_limit_login_per_minute": None}})
    assert body["security"]["rate_limit_login_per_minute"] == 10_000
    assert body["sources"]["security.rate_limit_login_per_minute"] == "env"


@pytest.mark.parametrize(
    "body",
    [
        {"security": {"registration_mode": "closed"}},
        {"security": {"session_ttl_hours": 0}},
        {"security": {"rate_limit_login_per_minute": -1}},
        {"security": {"session_cookie_name": "bad name;"}},
        {"security": {"cors_allow_origins": "https://ok.example.com, javascript:alert(1)"}},
        {"email": {"smtp_security": "ssl"}},
        {"email": {"smtp_port": 70000}},
        {"email": {"smtp_from_address": "not-an-address"}},
        {"runtime": {"app_base_url": "tripl.example.com"}},
        {"runtime": {"scan_row_limit_default": 0}},
        {"ai": {"ai_base_url": "ftp://llm.example.com"}},
        {"ai": {"describe_system_prompt": ""}},
        {"ai": {"search_embedding_dimensions": 10}},
        {"storage": {"photo_storage_backend": "s3"}},
        {"storage": {"photo_allowed_mime": "images"}},
        {"observability": {"log_level": "LOUD"}},
        {"system": {"debug": True}},
        {"runtime": {"scan_row_limit_default": 5}, "security": {"registration_mode": "nope"}},
    ],
)
def test_invalid_values_are_422_and_write_nothing(
    owner: TestClient, context: TriplContext, body: dict[str, Any]
) -> None:
    response = owner.patch(SETTINGS, json=body)
    assert response.status_code == 422, response.text
    assert stored_overrides(context) == {}


def test_values_are_normalised(owner: TestClient) -> None:
    body = patch(
        owner,
        {
            "observability": {"log_level": "debug"},
            "storage": {"photo_allowed_mime": " Image/PNG , image/webp "},
            "security": {"cors_allow_origins": "https://a.example.com, *"},
        },
    )
    assert body["observability"]["log_level"] == "DEBUG"
    assert body["storage"]["photo_allowed_mime"] == "image/png,image/webp"
    assert body["security"]["cors_allow_origins"] == "https://a.example.com,*"


def test_secrets_are_encrypted_never_returned_and_masked_in_audit(
    owner: TestClient, context: TriplContext
) -> None:
    response = owner.put(AI, json={"ai_api_key": "sk-very-secret", "ai_enabled": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ai"]["ai_api_key_configured"] is True and body["ai"]["ai_enabled"] is True
    assert body["overridden_fields"] == ["ai.ai_api_key", "ai.ai_enabled"]
    assert all(key.startswith("ai.") for key in body["sources"])
    patch(owner, {"email": {"smtp_password": "hunter2-smtp"}})
    full = owner.get(SETTINGS)
    assert "sk-very-secret" not in full.text and "hunter2-smtp" not in full.text
    assert full.json()["email"]["smtp_password_configured"] is True
    assert full.json()["system"]["openai_api_key_configured"] is True

    stored = stored_overrides(context)
    assert stored["ai.ai_api_key"] != "sk-very-secret"
    assert context.cipher.decrypt(stored["ai.ai_api_key"]) == "sk-very-secret"
    assert context.cipher.decrypt(stored["email.smtp_password"]) == "hunter2-smtp"

    with context.db.sessions() as db:
        rows = db.scalars(select(AuditEntry).where(AuditEntry.action == "settings.update")).all()
    assert len(rows) == 2
    dumped = json.dumps([row.payload for row in rows])
    assert "sk-very-secret" not in dumped and "hunter2-smtp" not in dumped
    assert {"ai.ai_api_key": "***", "ai.ai_enabled": True} in [row.payload for row in rows]
    assert all(row.user_email == "owner@example.com" for row in rows)

    cleared = owner.put(AI, json={"ai_api_key": None}).json()
    assert cleared["ai"]["ai_api_key_configured"] is False
    assert "ai.ai_api_key" not in stored_overrides(context)


def test_disabling_registration_through_settings_refuses_new_sign_ups(client: TestClient) -> None:
    first = client.post("/api/v1/auth/register", json={"email": "ann@example.com", "password": PASSWORD})
    assert first.status_code == 201 and first.json()["role"] == "owner"
    body = patch(client, {"security": {"registration_mode": "disabled"}})
    assert body["security"]["registration_mode"] == "disabled"
    assert client.get("/api/v1/auth/status").json()["registration_enabled"] is False
    refused = new_client(client.app).post(
        "/api/v1/auth/register", json={"email": "bob@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 403

    patch(client, {"security": {"registration_mode": None}})
    assert client.get("/api/v1/auth/status").json()["registration_enabled"] is True
    again = new_client(client.app).post(
        "/api/v1/auth/register", json={"email": "bob@example.com", "password": PASSWORD}
    )
    assert again.status_code == 201


def test_rate_limit_overrides_take_effect(owner: TestClient, context: TriplContext) -> None:
    patch(owner, {"security": {"rate_limit_login_per_minute": 3}})
    stranger = new_client(owner.app)
    attempt = {"email": "owner@example.com", "password": "wrong password"}
    # The limiter counts per clock minute: start well inside one, from a clean count, with one
    # attempt spent (as the owner's own login would have, had it fallen in the same minute).
    seconds_left = 60 - time.time() % 60
    if seconds_left < 5:
        time.sleep(seconds_left)
    assert isinstance(context.limiter, MemoryRateLimiter)
    context.limiter.reset()
    assert stranger.post("/api/v1/auth/login", json=attempt).status_code == 401
    assert [stranger.post("/api/v1/auth/login", json=attempt).status_code for _ in range(3)] == [
        401,
        401,
        429,
    ]

    patch(owner, {"security": {"rate_limit_enabled": False}})
    assert stranger.post("/api/v1/auth/login", json=attempt).status_code == 401


class FakeLlm:
    """A loopback OpenAI-compatible server: answers /chat/completions per `mode`."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                fake.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("authorization"),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                if fake.mode == "ok":
                    status, answer = 200, {"choices": [{"message": {"role": "assistant", "content": " ok "}}]}
                else:
                    status, answer = 401, {"error": {"message": "Incorrect API key provided"}}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture
def fake_llm() -> Iterator[FakeLlm]:
    fake = FakeLlm()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_ai_test_is_ok_false_while_ai_is_disabled(owner: TestClient, fake_llm: FakeLlm) -> None:
    owner.put(AI, json={"ai_base_url": fake_llm.base_url})
    response = owner.post(AI_TEST, json={})
    assert response.status_code == 200
    assert response.json() == {"ok": False, "message": "AI is disabled"}
    assert fake_llm.requests == []


def test_ai_test_calls_the_provider_with_the_stored_settings(owner: TestClient, fake_llm: FakeLlm) -> None:
    response = owner.put(
        AI,
        json={
            "ai_enabled": True,
            "ai_base_url": fake_llm.base_url,
            "ai_api_key": "sk-test",
            "ai_max_output_tokens": 50,
        },
    )
    assert response.status_code == 200, response.text
    result = owner.post(AI_TEST, json={"prompt": "Say ok"})
    assert result.status_code == 200 and result.json() == {"ok": True, "message": "ok"}
    (call,) = fake_llm.requests
    assert call["path"] == "/v1/chat/completions" and call["authorization"] == "Bearer sk-test"
    assert call["body"]["model"] == "gpt-4o-mini" and call["body"]["max_tokens"] == 50
    assert call["body"]["messages"][-1] == {"role": "user", "content": "Say ok"}

    default_prompt = owner.post(AI_TEST, json={})
    assert default_prompt.json()["ok"] is True
    assert "LLM connection works" in fake_llm.requests[-1]["body"]["messages"][-1]["content"]
    assert owner.post(AI_TEST, json={"prompt": ""}).status_code == 422
    assert owner.post(AI_TEST, json={"prompt": "x" * 501}).status_code == 422


def test_ai_test_reports_provider_errors_as_ok_false(owner: TestClient, fake_llm: FakeLlm) -> None:
    owner.put(AI, json={"ai_enabled": True, "ai_base_url": fake_llm.base_url, "ai_api_key": "sk-wrong"})
    fake_llm.mode = "unauthorized"
    result = owner.post(AI_TEST, json={})
    assert result.status_code == 200
    assert result.json()["ok"] is False
    assert "401" in result.json()["message"] and "Incorrect API key provided" in result.json()["message"]

    # Nothing listens on the server's port once it is closed: unreachable is ok=false too.
    fake_llm.server.shutdown()
    fake_llm.server.server_close()
    unreachable = owner.post(AI_TEST, json={})
    assert unreachable.status_code == 200 and unreachable.json()["ok"] is False
    assert "unreachable" in unreachable.json()["message"]
