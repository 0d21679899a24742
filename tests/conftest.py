"""Test harness: every API test runs once on SQLite and once on the local PostgreSQL.

Each test session creates its own PostgreSQL database (dropped at the end) and SQLite file;
tables are emptied after every test. Tests talk to the ASGI app through httpx (TestClient).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tripl.app import create_app
from tripl.config import Settings
from tripl.core.context import TriplContext, build_context
from tripl.core.ratelimit import MemoryRateLimiter
from tripl.core.read_cache import PlanGeneration
from tripl.core.security import hash_password
from tripl.models import Base
from tripl.workspace.api_keys.models import ApiKeyScope
from tripl.workspace.api_keys.service import create_key
from tripl.workspace.users.models import User, UserRole

PG_ADMIN_URL = os.environ.get(
    "TRIPL_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TRIPL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BACKENDS = ["sqlite", "postgresql"]
ORIGIN = "http://testserver"
PASSWORD = "correct horse battery"


def create_pg_database() -> str:
    name = f"tripl_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_database_factory() -> Iterator[Callable[[], str]]:
    """Makes fresh, empty PostgreSQL databases that are dropped when the session ends."""
    made: list[str] = []

    def make() -> str:
        made.append(create_pg_database())
        return made[-1]

    yield make
    for url in made:
        drop_pg_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_database_factory: Callable[[], str],
) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'tripl.db'}"
    return pg_database_factory()


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "queue_url": f"sqlite:///{data_dir / 'queue.db'}",
        "secret_key": "test-secret-key",
        "login_rate_limit_per_minute": 10_000,
        "register_rate_limit_per_hour": 10_000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def context(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TriplContext]:
    ctx = build_context(make_settings(tmp_path_factory.mktemp("data"), database_url))
    Base.metadata.create_all(ctx.db.engine)
    yield ctx
    ctx.close()


def empty_all_tables(ctx: TriplContext) -> None:
    """Every table but the plan generation row, whose counter only ever moves on; cached reads go too."""
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name != PlanGeneration.__tablename__]
    with ctx.db.engine.begin() as conn:
        if ctx.db.dialect == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
    ctx.read_cache.clear()
    ctx.reusable.clear()


@pytest.fixture
def app(context: TriplContext) -> Iterator[FastAPI]:
    yield create_app(context=context)
    empty_all_tables(context)
    if isinstance(context.limiter, MemoryRateLimiter):
        context.limiter.reset()


@pytest.fixture
def backend(context: TriplContext) -> str:
    return context.db.dialect


def new_client(app: FastAPI, **headers: str) -> TestClient:
    return TestClient(app, base_url=ORIGIN, headers={"origin": ORIGIN, **headers})


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """An anonymous browser on our own origin."""
    return new_client(app)


def add_user(ctx: TriplContext, email: str, role: UserRole, password: str = PASSWORD) -> User:
    with ctx.db.transaction() as db:
        user = User(email=email, name=email.split("@")[0], password_hash=hash_password(password), role=role)
        db.add(user)
    return user


UserClientFactory = Callable[..., TestClient]


@pytest.fixture
def user_client(app: FastAPI, context: TriplContext) -> UserClientFactory:
    """A signed-in browser for a new user with the given role."""

    def make(role: str = "viewer", email: str | None = None) -> TestClient:
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.com"
        add_user(context, email, UserRole(role))
        browser = new_client(app)
        response = browser.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return browser

    return make


@pytest.fixture
def owner(user_client: UserClientFactory) -> TestClient:
    return user_client("owner", "owner@example.com")


@pytest.fixture
def editor(user_client: UserClientFactory) -> TestClient:
    return user_client("editor", "editor@example.com")


@pytest.fixture
def viewer(user_client: UserClientFactory) -> TestClient:
    return user_client("viewer", "viewer@example.com")


@pytest.fixture
def key_client(app: FastAPI, context: TriplContext) -> UserClientFactory:
    """A script calling with an API key (no cookie, no Origin) of a new user with a role."""

    def make(role: str = "editor", scope: str = "write", project_slug: str | None = None) -> TestClient:
        user = add_user(context, f"key-{uuid.uuid4().hex[:8]}@example.com", UserRole(role))
        with context.db.transaction() as db:
            _, token = create_key(
                db,
                user,
                name="test",
                scope=ApiKeyScope(scope),
                expires_in_days=None,
                project_slug=project_slug,
            )
        return TestClient(app, base_url=ORIGIN, headers={"authorization": f"Bearer {token}"})

    return make


@pytest.fixture
def project(owner: TestClient) -> dict[str, object]:
    response = owner.post("/api/v1/projects", json={"name": "Shop", "slug": "shop"})
    assert response.status_code == 201, response.text
    return dict(response.json())
