"""`alembic upgrade head` must build exactly the schema the models declare, on both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tripl.core.db import Database
from tripl.core.migrate import upgrade
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
