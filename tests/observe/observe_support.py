"""Helpers for data source and scan config API tests: warehouses on real engines."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tripl.core.context import TriplContext

DATA_SOURCES = "/api/v1/data-sources"


def warehouses_dir(ctx: TriplContext) -> Path:
    path = Path(ctx.settings.data_dir) / "warehouses"
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_duckdb(ctx: TriplContext, statements: list[str], name: str | None = None) -> Path:
    """A DuckDB file inside the data directory's warehouses folder, built by the statements."""
    path = warehouses_dir(ctx) / (name or f"wh-{uuid.uuid4().hex[:8]}.duckdb")
    with duckdb.connect(str(path)) as conn:
        for statement in statements:
            conn.execute(statement)
    return path


def make_pg_warehouse(pg_database_factory: Callable[[], str], statements: list[str]) -> str:
    """A fresh PostgreSQL database on the local server with the statements applied; its name."""
    url = pg_database_factory()
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()
    database = make_url(url).database
    assert database is not None
    return database


def create_source(client: TestClient, **values: Any) -> dict[str, Any]:
    body = {
        "name": f"src-{uuid.uuid4().hex[:6]}",
        "db_type": "postgres",
        "host": "127.0.0.1",
        "port": 5432,
        "database_name": "analytics",
        **values,
    }
    response = client.post(DATA_SOURCES, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def duckdb_source(client: TestClient, path: Path | str, **values: Any) -> dict[str, Any]:
    return create_source(client, db_type="duckdb", host="local", port=1, database_name=str(path), **values)
