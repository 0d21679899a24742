from __future__ import annotations

import statistics
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.conftest import ORIGIN, PASSWORD, empty_all_tables, make_settings, new_client
from tripl.app import create_app
from tripl.core.context import TriplContext, build_context
from tripl.core.db import utcnow
from tripl.workspace.settings.service import set_override
from tripl.workspace.users.models import User, UserSession

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"


def register(client: TestClient, email: str, password: str = PASSWORD, **extra: object) -> object:
    return client.post(REGISTER, json={"email": email, "password": password, **extra})


def test_first_account_becomes_owner_and_later_ones_viewers(client: TestClient, app: object) -> None:
    assert client.get("/api/v1/auth/status").json() == {"has_users": False, "registration_enabled": True}

    first = register(client, "Ann@Example.com", name="  ")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["role"] == "owner" and body["email"] == "ann@example.com" and body["name"] is None
    assert "token" not in first.text

    second = register(new_client(client.app), "bob@example.com", name="Bob")
    assert second.status_code == 201 and second.json()["role"] == "viewer"
    assert client.get("/api/v1/auth/status").json() == {"has_users": True, "registration_enabled": True}


def test_session_cookie_attributes_and_stored_hash(client: TestClient, context: TriplContext) -> None:
    response = register(client, "ann@example.com")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("tripl_session=")
    for attribute in ("HttpOnly", "SameSite=lax", "Path=/", "Max-Age=604800"):
        assert attribute.lower() in cookie.lower()
    assert "secure" not in cookie.lower()
    token = client.cookies["tripl_session"]
    assert len(token) >= 43  # 32 random bytes, url-safe
    with context.db.sessions() as db:
        stored = db.scalars(select(UserSession.token_hash)).all()
        user = db.scalars(select(User)).one()
    assert len(stored) == 1 and token not in stored[0]
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert client.get("/api/v1/auth/me").json()["email"] == "ann@example.com"


def test_register_validation_and_duplicates(client: TestClient) -> None:
    assert register(client, "ann@example.com").status_code == 201
    duplicate = register(new_client(client.app), "ANN@example.com")
    assert duplicate.status_code == 409 and duplicate.json() == {"detail": "Email already registered"}
    assert register(client, "not-an-email").status_code == 422
    assert register(client, "short@example.com", password="seven77").status_code == 422
    assert register(client, "long@example.com", password="x" * 256).status_code == 422


def test_owner_can_close_registration_but_first_account_always_allowed(
    client: TestClient, context: TriplContext
) -> None:
    with context.db.transaction() as db:
        set_override(db, "security.registration_mode", "disabled", None)
    assert register(client, "first@example.com").status_code == 201
    assert client.get("/api/v1/auth/status").json()["registration_enabled"] is False
    refused = register(new_client(client.app), "second@example.com")
    assert refused.status_code == 403
    assert "disabled" in refused.json()["detail"]


def test_login_failures_do_not_reveal_which_part_was_wrong(client: TestClient) -> None:
    register(client, "ann@example.com")
    browser = new_client(client.app)
    wrong_password = browser.post(LOGIN, json={"email": "ann@example.com", "password": "wrong password"})
    unknown_user = browser.post(LOGIN, json={"email": "nobody@example.com", "password": "wrong password"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json() == {"detail": "Invalid email or password"}
    assert "set-cookie" not in wrong_password.headers

    def median_seconds(email: str) -> float:
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            browser.post(LOGIN, json={"email": email, "password": "wrong password"})
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    # Both paths do one argon2 verification; an unknown e-mail must not answer measurably faster.
    ratio = median_seconds("nobody@example.com") / median_seconds("ann@example.com")
    assert 0.5 < ratio < 2.0, ratio


def test_login_is_case_insensitive_on_email_and_logout_ends_the_session(client: TestClient) -> None:
    register(client, "ann@example.com")
    browser = new_client(client.app)
    login = browser.post(LOGIN, json={"email": "ANN@example.com", "password": PASSWORD})
    assert login.status_code == 200 and login.json()["role"] == "owner"
    stolen_cookie = browser.cookies["tripl_session"]

    logout = browser.post("/api/v1/auth/logout")
    assert logout.status_code == 204 and logout.content == b""
    assert 'tripl_session=""' in logout.headers["set-cookie"] or "Max-Age=0" in logout.headers["set-cookie"]
    replay = new_client(client.app)
    replay.cookies.set("tripl_session", stolen_cookie)
    assert replay.get("/api/v1/auth/me").status_code == 401
    # The other browser's session is unaffected.
    assert client.get("/api/v1/auth/me").status_code == 200


def test_missing_unknown_and_expired_sessions_are_401(client: TestClient, context: TriplContext) -> None:
    assert client.get("/api/v1/auth/me").json() == {"detail": "Authentication required"}
    forged = new_client(client.app)
    forged.cookies.set("tripl_session", "made-up-token")
    assert forged.get("/api/v1/auth/me").status_code == 401

    register(client, "ann@example.com")
    with context.db.transaction() as db:
        db.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = client.get("/api/v1/auth/me")
    assert expired.status_code == 401 and expired.json() == {"detail": "Authentication required"}


def test_cookie_mutations_need_our_origin(app: object, client: TestClient) -> None:
    register(client, "ann@example.com")
    cookie = client.cookies["tripl_session"]

    def browser(**headers: str) -> TestClient:
        b = TestClient(client.app, base_url=ORIGIN, headers=headers)
        b.cookies.set("tripl_session", cookie)
        return b

    body = {"name": "Shop", "slug": "shop"}
    no_origin = browser().post("/api/v1/projects", json=body)
    assert no_origin.status_code == 403 and "Origin" in no_origin.json()["detail"]
    assert browser(origin="https://evil.example").post("/api/v1/projects", json=body).status_code == 403
    # Reads never need it; a same-site Referer is accepted when Origin is absent.
    assert browser().get("/api/v1/projects").status_code == 200
    assert browser(referer=f"{ORIGIN}/projects").post("/api/v1/projects", json=body).status_code == 201
    # A cross-site page cannot sign a victim in either.
    hostile_login = browser(origin="https://evil.example").post(
        LOGIN, json={"email": "ann@example.com", "password": PASSWORD}
    )
    assert hostile_login.status_code == 403


def test_login_and_register_are_rate_limited_per_client_ip(tmp_path: object, database_url: str) -> None:
    from tripl.models import Base

    ctx = build_context(
        make_settings(
            tmp_path,  # type: ignore[arg-type]
            database_url.replace("tripl.db", "ratelimit.db")
            if database_url.startswith("sqlite")
            else database_url,
            login_rate_limit_per_minute=3,
            register_rate_limit_per_hour=2,
            trusted_proxies=["127.0.0.0/8"],
        )
    )
    Base.metadata.create_all(ctx.db.engine)
    app = create_app(context=ctx)
    try:
        attacker = TestClient(app, base_url=ORIGIN, headers={"origin": ORIGIN})
        assert register(attacker, "ratelimit-victim@example.com").status_code == 201
        bad = {"email": "ratelimit-victim@example.com", "password": "guess guess"}
        codes = [attacker.post(LOGIN, json=bad).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        limited = attacker.post(LOGIN, json=bad)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        # A forged X-Forwarded-For from an untrusted peer does not reset the count.
        spoof = attacker.post(LOGIN, json=bad, headers={"x-forwarded-for": "203.0.113.9"})
        assert spoof.status_code == 429
        # The victim, from their own address, is not locked out by the attacker's failures.
        victim = TestClient(app, base_url=ORIGIN, headers={"origin": ORIGIN}, client=("127.0.0.1", 5000))
        ok = victim.post(
            LOGIN,
            json={"email": "ratelimit-victim@example.com", "password": PASSWORD},
            headers={"x-forwarded-for": "198.51.100.7"},
        )
        assert ok.status_code == 200
        assert register(attacker, "second@example.com").status_code == 201
        assert register(attacker, "third@example.com").status_code == 429
    finally:
        empty_all_tables(ctx)
        ctx.close()
