"""`alembic upgrade head` must build exactly the schema the models declare, on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, Table, Uuid, create_engine, inspect, select, text
from sqlalchemy.engine import Engine

from tripl.core.db import Database
from tripl.core.migrate import alembic_config, upgrade
from tripl.models import Base


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_match_the_models(
    backend: str, tmp_path: object, pg_database_factory: Callable[[], str]
) -> None:
    url = f"sqlite:///{tmp_path}/migrated.db" if backend == "sqlite" else pg_database_factory()
    db = Database(url)
    try:
        upgrade(db.engine)
        upgrade(db.engine)  # a second run is a no-op
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
            tables = set(inspect(conn).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert diff == [], f"models and migrations differ; generate a migration: {diff}"
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_series_keep_their_rows_when_their_natural_key_becomes_the_primary_key(
    backend: str, tmp_path: object, pg_database_factory: Callable[[], str]
) -> None:
    url = f"sqlite:///{tmp_path}/series.db" if backend == "sqlite" else pg_database_factory()
    engine = create_engine(url)  # no foreign-key pragma: the rows point at no real scan config
    scan, bucket = uuid.uuid4(), datetime(2026, 11, 2, 13, tzinfo=UTC)
    scope = {"scan_config_id": scan, "scope_type": "project_total", "scope_ref": str(scan)}
    rows = {
        "metric_points": {**scope, "bucket": bucket, "count": 7},
        "metric_breakdown_points": {
            **scope,
            "bucket": bucket,
            "count": 5,
            "column": "os",
            "value": "ios",
            "is_other": False,
        },
        "metric_app_version_points": {
            **scope,
            "bucket": bucket,
            "count": 3,
            "version": "2.1",
            "is_other": False,
        },
        "metric_coverage_points": {
            "scan_config_id": scan,
            "bucket": bucket,
            "total_count": 9,
            "matched_count": 8,
        },
    }
    try:
        migrate_to(engine, "0003")
        with engine.begin() as conn:
            if backend == "postgresql":
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            for name, row in rows.items():
                model = Base.metadata.tables[name]
                old = Table(
                    name, MetaData(), Column("id", Uuid()), *(Column(k, model.c[k].type) for k in row)
                )
                conn.execute(old.insert(), {**row, "id": uuid.uuid4()})
        migrate_to(engine, "head")
        with engine.connect() as conn:
            for name, row in rows.items():
                table = Base.metadata.tables[name]
                assert [r._asdict() for r in conn.execute(select(*(table.c[k] for k in row)))] == [row]
        migrate_to(engine, "0003")  # and back: every row gets an id again
        with engine.connect() as conn:
            for name in rows:
                assert conn.execute(text(f"SELECT count(id) FROM {name}")).scalar() == 1
    finally:
        engine.dispose()


def migrate_to(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        current = MigrationContext.configure(connection).get_current_revision()
        if revision == "head" or (current or "") < revision:
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)
