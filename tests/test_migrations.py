"""`alembic upgrade head` must build exactly the schema the models declare, on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    MetaData,
    String,
    Table,
    Uuid,
    create_engine,
    delete,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tripl.core.db import Database, UTCDateTime
from tripl.core.migrate import alembic_config, upgrade
from tripl.models import AppVersionPoint, Base, BreakdownPoint, MetricPoint, MetricSeries, SeriesPoint


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
def test_series_points_survive_the_move_to_series_ids_and_back(
    backend: str, tmp_path: object, pg_database_factory: Callable[[], str]
) -> None:
    engine = unchecked_engine(backend, f"sqlite:///{tmp_path}/series.db", pg_database_factory)
    scan, event, event_type = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first, second = datetime(2026, 11, 2, 13, tzinfo=UTC), datetime(2026, 11, 2, 14, tzinfo=UTC)
    total = {"scan_config_id": scan, "scope_type": "project_total", "scope_ref": str(scan),
             "event_type_id": None, "event_id": None}  # fmt: skip
    of_event = {"scan_config_id": scan, "scope_type": "event", "scope_ref": str(event),
                "event_type_id": event_type, "event_id": event}  # fmt: skip
    old_rows: dict[str, list[dict[str, Any]]] = {
        "metric_points": [
            {**total, "bucket": first, "count": 7},
            {**total, "bucket": second, "count": 8},
            {**of_event, "bucket": first, "count": 2},
        ],
        "metric_breakdown_points": [
            {**of_event, "bucket": b, "count": n, "column": "os", "value": v, "is_other": o}
            for b, v, o, n in ((first, "ios", False, 5), (second, "ios", False, 6), (first, "Other", True, 1))
        ],
        "metric_app_version_points": [
            {**total, "bucket": first, "count": 3, "version": "2.1", "is_other": False},
        ],
    }
    old_columns = {
        "scan_config_id": Uuid(), "scope_type": String(16), "scope_ref": String(64), "event_type_id": Uuid(),
        "event_id": Uuid(), "bucket": UTCDateTime(), "count": BigInteger(), "column": String(255),
        "value": String(500), "version": String(255), "is_other": Boolean(),
    }  # fmt: skip

    def old_table(name: str) -> Table:
        names = dict.fromkeys(k for row in old_rows[name] for k in row)
        return Table(name, MetaData(), *(Column(k, old_columns[k]) for k in names))

    def as_set(rows: Any) -> set[frozenset[tuple[str, Any]]]:
        return {frozenset((k, v) for k, v in dict(row).items() if v is not None) for row in rows}

    def stored_old() -> dict[str, set[frozenset[tuple[str, Any]]]]:
        with engine.connect() as conn:
            return {
                name: as_set(r._asdict() for r in conn.execute(select(old_table(name)))) for name in old_rows
            }

    expected = {name: as_set(rows) for name, rows in old_rows.items()}
    try:
        migrate_to(engine, "0004")
        with engine.begin() as conn:
            for name, rows in old_rows.items():
                conn.execute(old_table(name).insert(), rows)
        migrate_to(engine, "head")
        with Session(engine) as db:
            counts = {(p.scope_type, p.bucket): p.count for p in db.scalars(select(MetricPoint))}
            assert counts == {("project_total", first): 7, ("project_total", second): 8, ("event", first): 2}
            breakdowns = {
                (p.bucket, p.value, p.is_other): (p.count, p.event_id, p.event_type_id)
                for p in db.scalars(select(BreakdownPoint))
            }
            assert breakdowns == {
                (first, "ios", False): (5, event, event_type),
                (second, "ios", False): (6, event, event_type),
                (first, "Other", True): (1, event, event_type),
            }
            assert [(p.version, p.count) for p in db.scalars(select(AppVersionPoint))] == [("2.1", 3)]
            # one series per old key: total and event counts, two breakdown values, one version
            assert db.scalar(select(func.count()).select_from(MetricSeries)) == 5
        migrate_to(engine, "0004")  # and back: the same rows in the old tables
        assert stored_old() == expected
    finally:
        engine.dispose()


def unchecked_engine(backend: str, sqlite_url: str, pg_database_factory: Callable[[], str]) -> Engine:
    """An engine on a fresh database whose rows may point at no real scan config: no foreign-key
    pragma on SQLite, and PostgreSQL's foreign-key triggers off for its sessions."""
    if backend == "sqlite":
        return create_engine(sqlite_url)
    return create_engine(
        pg_database_factory(), connect_args={"options": "-c session_replication_role=replica"}
    )


def migrate_to(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        current = MigrationContext.configure(connection).get_current_revision()
        if revision == "head" or (current or "") < revision:
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)


def test_sqlite_point_buckets_become_exact_integers_and_back(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/buckets.db")
    in_order = "SELECT bucket FROM metric_series_points ORDER BY count"
    stored = ["2026-11-02 13:00:00.000000", "2026-11-02 13:15:00.250001", "1969-12-31 23:00:00.000000"]
    try:
        migrate_to(engine, "0005")
        with engine.begin() as conn:
            conn.exec_driver_sql(
                'INSERT INTO metric_series (id, scan_config_id, kind, scope_type, scope_ref, "column",'
                " value, is_other) VALUES (1, 'x', 'counts', 'event', 'e', '', '', 0)"
            )
            for n, bucket in enumerate(stored):
                conn.exec_driver_sql("INSERT INTO metric_series_points VALUES (1, ?, ?)", (bucket, n))
        migrate_to(engine, "head")
        with Session(engine) as db:
            points = {p.bucket: p.count for p in db.scalars(select(SeriesPoint))}
            in_window = db.scalars(
                select(SeriesPoint.count).where(
                    SeriesPoint.bucket >= datetime(2026, 11, 2, 13, 15, 0, 250001, tzinfo=UTC)
                )
            ).all()
        assert points == {
            datetime(2026, 11, 2, 13, tzinfo=UTC): 0,
            datetime(2026, 11, 2, 13, 15, 0, 250001, tzinfo=UTC): 1,
            datetime(1969, 12, 31, 23, tzinfo=UTC): 2,
        }
        assert in_window == [1]
        with engine.connect() as conn:
            raw = conn.exec_driver_sql(in_order).scalars().all()
        assert raw == [1_793_624_400_000_000, 1_793_625_300_250_001, -3_600_000_000]
        migrate_to(engine, "0005")
        with engine.connect() as conn:
            back = conn.exec_driver_sql(in_order).scalars().all()
        assert back == stored
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrated_points_go_with_their_series(
    backend: str, tmp_path: object, pg_database_factory: Callable[[], str]
) -> None:
    # Points have no foreign key: the migrations' trigger deletes a deleted series' points.
    engine = unchecked_engine(backend, f"sqlite:///{tmp_path}/cascade.db", pg_database_factory)
    try:
        migrate_to(engine, "head")
        series = {"scan_config_id": uuid.uuid4(), "kind": "counts", "scope_type": "event", "scope_ref": "e",
                  "column": "", "value": "", "is_other": False}  # fmt: skip
        hour = datetime(2026, 11, 2, 13, tzinfo=UTC)
        with Session(engine) as db, db.begin():
            kept = db.scalars(insert(MetricSeries).returning(MetricSeries.id), [series]).one()
            gone = db.scalars(
                insert(MetricSeries).returning(MetricSeries.id), [{**series, "scope_ref": "x"}]
            ).one()
            db.execute(
                insert(SeriesPoint), [{"series_id": s, "bucket": hour, "count": 1} for s in (kept, gone)]
            )
        with engine.begin() as conn:
            if backend == "postgresql":  # triggers fire only in the default replication role
                conn.exec_driver_sql("SET session_replication_role = origin")
            conn.execute(delete(MetricSeries).where(MetricSeries.id == gone))
        with Session(engine) as db:
            assert db.execute(select(SeriesPoint.series_id, SeriesPoint.count)).all() == [(kept, 1)]
    finally:
        engine.dispose()
