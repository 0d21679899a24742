"""Metric collection end to end: a real DuckDB warehouse file in, stored series out."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from tests.observe.metric_support import make_scan
from tests.observe.warehouse.bigquery_server import BigQueryServer
from tests.observe.warehouse.chdb_server import ChdbClickHouseServer
from tests.observe.warehouse.sql_dataset import sql_text
from tests.plan.factories import make_event, make_event_type

from tripl.core.context import TriplContext
from tripl.observe.data_sources.models import DataSource
from tripl.observe.metrics import collection, storage
from tripl.observe.metrics.collection import ChunkResults, ChunkWindows, chunk_interval_of, collect_metrics
from tripl.observe.metrics.models import (
    AppVersionPoint,
    BreakdownPoint,
    CoveragePoint,
    MetricPoint,
    MetricScopeType,
    MetricSeries,
    SeriesPoint,
)
from tripl.observe.metrics.versions import kept_versions, release_order_key
from tripl.observe.reconciliation.models import ShadowEvent, ShadowEventStatus
from tripl.observe.scans.models import ScanConfig, ScanInterval
from tripl.observe.scans.runtime import ScanFailed
from tripl.observe.warehouse.base import ColumnarResult, DBType
from tripl.observe.warehouse.buckets import iter_chunks
from tripl.observe.warehouse.duckdb import DuckDBWarehouse
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, midnight UTC
H = timedelta(hours=1)

# (minutes after T0, type, name, country, platform, app version); buckets are hours.
ROWS: list[tuple[int, str, str, str | None, str, str | None]] = [
    (1, "screen", "home", "DE", "ios", "1.10.0"),
    (2, "screen", "home", "DE", "ios", "1.10.0"),
    (3, "screen", "home", "DE", "android", "1.9.0"),
    (4, "screen", "home", "US", "web", "1.2.0"),
    (5, "screen", "home", "FR", "ios", "1.10.0"),
    (6, "click", "buy", "US", "ios", "1.10.0"),
    (7, "click", "buy", "US", "ios", None),
    (8, "screen", "mystery", None, "ios", "1.9.0"),
    (9, "zzz", "x", "DE", "ios", "1.9.0"),
    (61, "screen", "home", "US", "ios", "1.10.0"),
    (62, "screen", "home", "US", "ios", "1.10.0"),
    (63, "screen", "home", "DE", "ios", "1.10.0"),
    (64, "click", "buy", "DE", "web", "1.10.0"),
    (65, "screen", "mystery", "DE", "ios", "1.10.0"),
    (121, "screen", "home", "FR", "ios", "1.10.0"),
    (122, "screen", "home", "FR", "ios", "1.10.0"),
    (123, "screen", "home", "DE", "ios", "1.10.0"),
    (124, "screen", "home", "DE", "ios", "1.10.0-beta"),
    (300, "screen", "home", "DE", "ios", "1.10.0"),  # outside the collected window
]


def make_warehouse(ctx: TriplContext, rows: list[tuple[int, str, str, str | None, str, str | None]]) -> str:
    folder = Path(ctx.settings.data_dir) / "warehouses"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"metrics-{uuid.uuid4().hex[:8]}.duckdb"
    with duckdb.connect(str(folder / name)) as conn:
        conn.execute(
            "CREATE TABLE events (ts TIMESTAMP, type VARCHAR, name VARCHAR, country VARCHAR,"
            " platform VARCHAR, app_version VARCHAR)"
        )
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", naive_rows(rows))
    return name


def naive_rows(
    rows: list[tuple[int, str, str, str | None, str, str | None]],
) -> list[tuple[datetime, str, str, str | None, str, str | None]]:
    """The rows with their timestamps, as naive UTC datetimes (a TIMESTAMP column's values)."""
    return [((T0 + timedelta(minutes=m)).replace(tzinfo=None), t, n, c, p, v) for m, t, n, c, p, v in rows]


@dataclass
class Control:
    """The JobControl a job runner would hand over, recording what the pipeline told it."""

    scan_config_id: uuid.UUID
    time_from: datetime | None
    time_to: datetime | None
    saved: dict[str, Any] | None = None
    cancel_after_chunks: int | None = None
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)
    reports: list[dict[str, Any]] = field(default_factory=list)

    @property
    def checkpoint(self) -> dict[str, Any] | None:
        return self.saved

    def progress(self, **summary: Any) -> None:
        self.reports.append(summary)

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.saved = json.loads(json.dumps(checkpoint))  # what survives a JSON column

    def save_in(self, db: Session, checkpoint: dict[str, Any], **summary: Any) -> None:
        self.save_checkpoint(checkpoint)
        self.progress(**summary)

    def cancel_requested(self) -> bool:
        return self.cancel_after_chunks is not None and len(self.reports) >= self.cancel_after_chunks


@dataclass
class World:
    ctx: TriplContext
    scan: ScanConfig
    screen: EventType
    click: EventType
    home: Event
    buy: Event

    def control(self, start: datetime = T0, end: datetime = T0 + 3 * H, **kw: Any) -> Control:
        return Control(self.scan.id, start, end, **kw)

    def collect(self, control: Control | None = None, replay: bool = True) -> dict[str, Any]:
        return collect_metrics(self.ctx, self.scan.id, control or self.control(), replay=replay)

    def series(self, scope: MetricScopeType, ref: object) -> dict[datetime, int]:
        with self.ctx.db.sessions() as db:
            rows = db.execute(
                select(MetricPoint.bucket, MetricPoint.count).where(
                    MetricPoint.scan_config_id == self.scan.id,
                    MetricPoint.scope_type == scope,
                    MetricPoint.scope_ref == str(ref),
                )
            ).all()
        return {bucket: count for bucket, count in rows}

    def breakdown(
        self, scope: MetricScopeType, ref: object, column: str
    ) -> dict[tuple[datetime, str, bool], int]:
        with self.ctx.db.sessions() as db:
            rows = db.execute(
                select(
                    BreakdownPoint.bucket, BreakdownPoint.value, BreakdownPoint.is_other, BreakdownPoint.count
                ).where(
                    BreakdownPoint.scan_config_id == self.scan.id,
                    BreakdownPoint.scope_type == scope,
                    BreakdownPoint.scope_ref == str(ref),
                    BreakdownPoint.column == column,
                )
            ).all()
        return {(b, v, o): c for b, v, o, c in rows}

    def versions(self, scope: MetricScopeType, ref: object) -> dict[tuple[datetime, str, bool], int]:
        with self.ctx.db.sessions() as db:
            rows = db.execute(
                select(
                    AppVersionPoint.bucket,
                    AppVersionPoint.version,
                    AppVersionPoint.is_other,
                    AppVersionPoint.count,
                ).where(
                    AppVersionPoint.scan_config_id == self.scan.id,
                    AppVersionPoint.scope_type == scope,
                    AppVersionPoint.scope_ref == str(ref),
                )
            ).all()
        return {(b, v, o): c for b, v, o, c in rows}

    def orphan_points(self) -> int:
        """Stored points whose series is gone (points have no foreign key; a trigger deletes them)."""
        with self.ctx.db.sessions() as db:
            return len(
                db.scalars(
                    select(SeriesPoint.series_id).where(SeriesPoint.series_id.not_in(select(MetricSeries.id)))
                ).all()
            )

    def row_count(self) -> int:
        with self.ctx.db.sessions() as db:
            return sum(
                len(db.scalars(select(model.bucket).where(model.scan_config_id == self.scan.id)).all())
                for model in (MetricPoint, BreakdownPoint, AppVersionPoint, CoveragePoint)
            )


@pytest.fixture
def world(context: TriplContext, project: dict[str, Any]) -> World:
    screen, _ = make_event_type(context, project["id"], "screen")
    click, _ = make_event_type(context, project["id"], "click")
    home = make_event(context, screen, "screen:home", metric_breakdown_columns=["platform"])
    buy = make_event(context, click, "click:buy")
    scan = make_scan(
        context,
        project["id"],
        database=make_warehouse(context, ROWS),
        base_query="SELECT * FROM events",
        event_type_column="type",
        event_name_format="{type}:{name}",
        metric_breakdown_columns=["country"],
        metric_breakdown_values_limit=1,
        distribution_drift_fields=["platform"],
        app_version_column="app_version",
        app_version_keep_releases=2,
        replay_chunk_interval=ScanInterval.h1,  # an hour per chunk: top values and versions per hour
    )
    return World(context, scan, screen, click, home, buy)


P, T, E = MetricScopeType.project_total, MetricScopeType.event_type, MetricScopeType.event


def test_counts_per_bucket_for_total_types_and_events(world: World) -> None:
    result = world.collect()
    assert result["mode"] == "replay" and result["chunks"] == 3
    assert result["time_from"] == T0.isoformat() and result["time_to"] == (T0 + 3 * H).isoformat()
    assert result["query_rows_scanned"] == 18 and result["unmatched_event_names"] == 2
    assert world.series(P, world.scan.id) == {T0: 9, T0 + H: 5, T0 + 2 * H: 4}
    assert world.series(T, world.screen.id) == {T0: 6, T0 + H: 4, T0 + 2 * H: 4}
    assert world.series(T, world.click.id) == {T0: 2, T0 + H: 1}
    assert world.series(E, world.home.id) == {T0: 5, T0 + H: 3, T0 + 2 * H: 4}
    assert world.series(E, world.buy.id) == {T0: 2, T0 + H: 1}
    # 3 total + 3 screen + 2 click + 3 home + 2 buy
    assert result["metric_rows"] == 13
    assert world.collect(replay=False)["mode"] == "collect"


def test_coverage_shadows_and_last_seen(world: World) -> None:
    world.collect()
    with world.ctx.db.sessions() as db:
        coverage = {c.bucket: (c.total_count, c.matched_count) for c in db.scalars(select(CoveragePoint))}
        shadows = db.scalars(select(ShadowEvent)).all()
        home, buy = db.get(Event, world.home.id), db.get(Event, world.buy.id)
    assert coverage == {T0: (9, 7), T0 + H: (5, 4), T0 + 2 * H: (4, 4)}
    # "zzz:x" has no event type in the plan, but it is a name all the same.
    assert sorted((s.event_name, s.observed_count) for s in shadows) == [("screen:mystery", 2), ("zzz:x", 1)]
    mystery = next(s for s in shadows if s.event_name == "screen:mystery")
    assert mystery.event_type_id == world.screen.id and mystery.status == ShadowEventStatus.new
    assert (mystery.first_seen_at, mystery.last_seen_at) == (T0, T0 + H)
    assert home is not None and buy is not None
    assert home.last_seen_at == T0 + 2 * H and buy.last_seen_at == T0 + H

    # A user's decision stays; collecting an older window rewinds neither times nor last_seen_at.
    with world.ctx.db.transaction() as db:
        db.get(ShadowEvent, mystery.id).status = ShadowEventStatus.dismissed  # type: ignore[union-attr]
    world.collect(world.control(T0, T0 + H))
    with world.ctx.db.sessions() as db:
        again = db.get(ShadowEvent, mystery.id)
        home = db.get(Event, world.home.id)
    assert again is not None and home is not None
    assert again.status == ShadowEventStatus.dismissed and again.observed_count == 1
    assert (again.first_seen_at, again.last_seen_at) == (T0, T0 + H)
    assert home.last_seen_at == T0 + 2 * H


def test_seeing_an_event_is_not_editing_it(world: World) -> None:
    with world.ctx.db.sessions() as db:
        edited_before = {e.id: e.updated_at for e in db.scalars(select(Event))}
    world.collect()
    with world.ctx.db.sessions() as db:
        home = db.get(Event, world.home.id)
        edited_after = {e.id: e.updated_at for e in db.scalars(select(Event))}
    assert home is not None and home.last_seen_at == T0 + 2 * H
    # `updated_at` is what the activity feed lists as "event updated": a scan must not flood it.
    assert edited_after == edited_before


def test_breakdowns_keep_the_top_value_and_fold_the_rest(world: World) -> None:
    result = world.collect()
    # Events: top 1 country per chunk, the rest in Other; the parts add up to the event's total.
    home = world.breakdown(E, world.home.id, "country")
    assert home == {
        (T0, "DE", False): 3,
        (T0, "Other", True): 2,
        (T0 + H, "US", False): 2,
        (T0 + H, "Other", True): 1,
        (T0 + 2 * H, "DE", False): 2,  # a tie with FR: the smaller value wins
        (T0 + 2 * H, "Other", True): 2,
    }
    assert world.breakdown(E, world.buy.id, "country") == {(T0, "US", False): 2, (T0 + H, "DE", False): 1}
    # Rolled up to the type: every row of the type, the unmatched "mystery" included.
    screen = world.breakdown(T, world.screen.id, "country")
    per_bucket: Counter[datetime] = Counter()
    for (bucket, _, _), count in screen.items():
        per_bucket[bucket] += count
    assert dict(per_bucket) == world.series(T, world.screen.id)
    assert screen[(T0, "DE", False)] == 3 and screen[(T0, "Other", True)] == 3
    # The event's own breakdown column: only for that event, never rolled up.
    assert world.breakdown(E, world.home.id, "platform") == {
        (T0, "ios", False): 3,
        (T0, "Other", True): 2,
        (T0 + H, "ios", False): 3,
        (T0 + 2 * H, "ios", False): 4,
    }
    assert world.breakdown(E, world.buy.id, "platform") == {}
    # Distribution-drift values at project and type level (limit = the breakdown limit, 1).
    total = world.breakdown(P, world.scan.id, "platform")
    assert total[(T0, "ios", False)] == 7 and total[(T0, "Other", True)] == 2
    assert sum(total.values()) == 18
    click = world.breakdown(T, world.click.id, "platform")
    assert sum(click.values()) == 3
    with world.ctx.db.sessions() as db:
        assert result["breakdown_rows"] == len(db.scalars(select(BreakdownPoint.count)).all())


def test_app_versions_keep_the_newest_releases(world: World) -> None:
    result = world.collect()
    # Per chunk the two newest versions stay: 1.2.0 folds into Other in the first hour; in the
    # third hour 1.10.0 and its prerelease (older than the release) are the two newest.
    assert world.versions(P, world.scan.id) == {
        (T0, "1.10.0", False): 4,
        (T0, "1.9.0", False): 3,
        (T0, "Other", True): 1,
        (T0 + H, "1.10.0", False): 5,
        (T0 + 2 * H, "1.10.0", False): 3,
        (T0 + 2 * H, "1.10.0-beta", False): 1,
    }
    assert world.versions(E, world.buy.id) == {(T0, "1.10.0", False): 1, (T0 + H, "1.10.0", False): 1}
    assert world.versions(T, world.screen.id)[(T0, "1.9.0", False)] == 2
    with world.ctx.db.sessions() as db:
        assert result["version_rows"] == len(db.scalars(select(AppVersionPoint.count)).all())


def test_collecting_again_replaces_instead_of_doubling(world: World) -> None:
    world.collect()
    before = (world.row_count(), world.series(P, world.scan.id), world.breakdown(E, world.home.id, "country"))
    world.collect()
    world.collect(world.control(T0 + H, T0 + 2 * H))
    after = (world.row_count(), world.series(P, world.scan.id), world.breakdown(E, world.home.id, "country"))
    assert after == before


def test_cancel_between_chunks_keeps_what_was_written(world: World) -> None:
    control = world.control(cancel_after_chunks=1)
    result = world.collect(control)
    assert result["chunks"] == 1 and result["cancelled"] is True
    assert world.series(P, world.scan.id) == {T0: 9}
    assert control.reports == [{"chunks_done": 1, "chunks_total": 3, "rows": 9}]


@dataclass
class DeletingControl(Control):
    """Deletes an event once the first chunk is stored, as a user might while a replay runs."""

    delete: Callable[[], None] | None = None

    def cancel_requested(self) -> bool:
        if self.reports and self.delete is not None:
            self.delete()
            self.delete = None
        return super().cancel_requested()


def test_an_event_deleted_during_a_run_stays_deleted_and_the_run_completes(world: World) -> None:
    def delete_home() -> None:
        with world.ctx.db.transaction() as db:
            db.delete(db.get(Event, world.home.id))

    control = DeletingControl(world.scan.id, T0, T0 + 3 * H, delete=delete_home)
    result = world.collect(control)
    assert result["chunks"] == 3
    assert world.series(E, world.home.id) == {}  # the deletion took its series; none came back
    assert world.orphan_points() == 0  # nor their points
    assert world.breakdown(E, world.home.id, "country") == {}
    assert world.series(E, world.buy.id) == {T0: 2, T0 + H: 1}
    # Its rows still count for its type and the project, as every row read does.
    assert world.series(T, world.screen.id) == {T0: 6, T0 + H: 4, T0 + 2 * H: 4}
    assert world.series(P, world.scan.id) == {T0: 9, T0 + H: 5, T0 + 2 * H: 4}


def test_a_series_deleted_while_a_chunk_is_written_waits_and_takes_the_points(world: World) -> None:
    if world.ctx.db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: the deletion cannot start while a chunk is written")
    world.collect(world.control(T0, T0 + H))
    gone = delete(MetricSeries).where(MetricSeries.scope_ref == str(world.home.id))
    with world.ctx.db.transaction() as writing:
        # What a chunk's write does before it stores points: it reads (and locks) the scan's series.
        series = storage._stored_series(writing, world.scan.id, {})[0]
        with world.ctx.db.engine.connect() as other:
            other.exec_driver_sql("SET lock_timeout = '200ms'")
            with pytest.raises(OperationalError, match="lock timeout"):
                other.execute(gone)
        writing.execute(
            insert(SeriesPoint),
            [{"series_id": s, "bucket": T0 + 2 * H, "count": 1} for s in series.values()],
        )
    with world.ctx.db.transaction() as db:
        db.execute(gone)
    assert world.series(E, world.home.id) == {}
    assert world.orphan_points() == 0
    assert world.series(E, world.buy.id) == {T0: 2, T0 + 2 * H: 1}


def test_a_drift_field_kept_whole_as_a_breakdown_is_counted_from_its_rows(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world.ctx.db.transaction() as db:
        scan = db.get(ScanConfig, world.scan.id)
        assert scan is not None
        scan.metric_breakdown_columns, scan.metric_breakdown_values_limit = ["platform"], None
    queries: list[str] = []
    read = DuckDBWarehouse.query_columns

    def counted(self: DuckDBWarehouse, sql: str, *, max_rows: int) -> Any:
        queries.append(sql)
        return read(self, sql, max_rows=max_rows)

    monkeypatch.setattr(DuckDBWarehouse, "query_columns", counted)
    world.collect()
    # Per hourly chunk the counts and the platform breakdown: no query of its own for the drift.
    assert len(queries) == 3 * 2
    in_window = [r for r in ROWS if r[0] < 180]
    expected = Counter((T0 + (r[0] // 60) * H, r[4]) for r in in_window)
    assert world.breakdown(P, world.scan.id, "platform") == {
        (bucket, platform, False): count for (bucket, platform), count in expected.items()
    }
    home = Counter((T0 + (r[0] // 60) * H, r[4]) for r in in_window if r[2] == "home")
    assert world.breakdown(E, world.home.id, "platform") == {(b, p, False): c for (b, p), c in home.items()}


# --- the same rows in other warehouses: every engine must store what DuckDB stores -------------


def stored(w: World) -> dict[str, Any]:
    """Every series, breakdown and app-version row the collection stored for `w`'s scan config."""
    scopes = [(P, w.scan.id), (T, w.screen.id), (T, w.click.id), (E, w.home.id), (E, w.buy.id)]
    return {
        "series": [w.series(*scope) for scope in scopes],
        "breakdowns": [w.breakdown(*scope, column) for scope in scopes for column in ("country", "platform")],
        "versions": [w.versions(*scope) for scope in scopes],
    }


def on_source(world: World, source: DataSource, **changes: Any) -> World:
    """The world's (DuckDB) scan config copied onto `source`, with `changes` (e.g. its base_query)."""
    with world.ctx.db.transaction() as db:
        on_duckdb = db.get(ScanConfig, world.scan.id)
        assert on_duckdb is not None
        db.add(source)
        db.flush()
        skipped = {"id", "name", "data_source_id", "created_at", "updated_at"}
        copied = {
            c.key: getattr(on_duckdb, c.key) for c in ScanConfig.__table__.columns if c.key not in skipped
        }
        scan = ScanConfig(**{**copied, **changes}, name=f"on {source.name}", data_source_id=source.id)
        db.add(scan)
    return replace(world, scan=scan)


def assert_stores_the_same_as_duckdb(world: World, other: World) -> None:
    """Collect the same window on DuckDB and on `other`: the run's counters and every stored row agree."""
    on_duckdb, on_other = world.collect(), other.collect()
    expected = stored(world)
    assert expected["series"][0] == {T0: 9, T0 + H: 5, T0 + 2 * H: 4}  # pinned by the tests above
    assert on_other == on_duckdb
    assert stored(other) == expected


def values_sql(rows: list[tuple[int, str, str, str | None, str, str | None]]) -> str:
    """`(...), (...)` of ROWS for an INSERT, timestamps as UTC text."""
    return ", ".join(
        "(" + ", ".join(sql_text(v) for v in (f"{ts:%Y-%m-%d %H:%M:%S}", *rest)) + ")"
        for ts, *rest in naive_rows(rows)
    )


def test_a_postgresql_warehouse_stores_the_same_series_as_duckdb(
    world: World, pg_database_factory: Callable[[], str]
) -> None:
    database = str(make_url(pg_database_factory()).database)
    with psycopg.connect(
        host="127.0.0.1", port=5432, user="postgres", dbname=database, autocommit=True
    ) as conn:
        conn.execute(
            "CREATE TABLE events (ts timestamp, type text, name text, country text, platform text,"
            " app_version text)"
        )
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO events VALUES (%s, %s, %s, %s, %s, %s)", naive_rows(ROWS))
    source = DataSource(name=f"pg-{database}", db_type=DBType.postgres, host="127.0.0.1", port=5432,
                        database_name=database, username="postgres")  # fmt: skip
    assert_stores_the_same_as_duckdb(world, on_source(world, source))


CLICKHOUSE_PASSWORD = "s3cret-Pa55word"


@pytest.fixture(scope="module")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbClickHouseServer]:
    server = ChdbClickHouseServer(
        str(tmp_path_factory.mktemp("chdb")), users={"default": "", "reader": CLICKHOUSE_PASSWORD}
    )
    server.execute("CREATE DATABASE analytics")
    server.execute(
        "CREATE TABLE analytics.events (ts DateTime('UTC'), type String, name String,"
        " country Nullable(String), platform String, app_version Nullable(String))"
        " ENGINE = MergeTree ORDER BY ts"
    )
    server.execute(f"INSERT INTO analytics.events VALUES {values_sql(ROWS)}")
    server.start()
    yield server
    server.stop()


def test_a_clickhouse_warehouse_stores_the_same_series_as_duckdb(
    world: World, clickhouse: ChdbClickHouseServer
) -> None:
    source = DataSource(
        name=f"clickhouse-{uuid.uuid4().hex[:8]}",
        db_type=DBType.clickhouse,
        host="127.0.0.1",
        port=clickhouse.port,
        database_name="analytics",
        username="reader",
        password_encrypted=world.ctx.cipher.encrypt(CLICKHOUSE_PASSWORD),
    )
    clickhouse.requests.clear()
    assert_stores_the_same_as_duckdb(world, on_source(world, source))
    assert clickhouse.requests  # the rows did come through the server


BIGQUERY_PROJECT = "tripl-test"


@pytest.fixture(scope="module")
def bigquery() -> Iterator[BigQueryServer]:
    server = BigQueryServer(project=BIGQUERY_PROJECT)
    server.execute("CREATE SCHEMA analytics")
    server.execute(
        "CREATE TABLE analytics.events (ts TIMESTAMPTZ, type VARCHAR, name VARCHAR, country VARCHAR,"
        " platform VARCHAR, app_version VARCHAR)"
    )
    server.execute(f"INSERT INTO analytics.events VALUES {values_sql(ROWS)}")  # the server runs in UTC
    server.start()
    yield server
    server.stop()


def test_a_bigquery_warehouse_stores_the_same_series_as_duckdb(
    world: World, bigquery: BigQueryServer
) -> None:
    source = DataSource(
        name=f"bigquery-{uuid.uuid4().hex[:8]}",
        db_type=DBType.bigquery,
        host="",
        port=0,
        database_name=BIGQUERY_PROJECT,
        extra_params={"api_endpoint": bigquery.url, "location": "US"},
    )
    bigquery.requests.clear()
    other = on_source(world, source, base_query="SELECT * FROM analytics.events")
    assert_stores_the_same_as_duckdb(world, other)
    assert any(r.path.endswith("/queries") for r in bigquery.requests)


def test_resume_from_the_checkpoint(world: World) -> None:
    first = world.control(cancel_after_chunks=1)
    world.collect(first)
    assert first.saved is not None and first.saved["next_chunk_from"] == (T0 + H).isoformat()
    # The job is picked up again (a new worker): it continues after the saved chunk, counters carried.
    resumed = world.control(saved=first.saved)
    result = world.collect(resumed)
    assert result["chunks"] == 3 and result["query_rows_scanned"] == 18
    assert world.series(P, world.scan.id) == {T0: 9, T0 + H: 5, T0 + 2 * H: 4}
    assert [r["chunks_done"] for r in resumed.reports] == [2, 3]


def test_row_limit_fails_the_run_without_partial_data(world: World) -> None:
    with world.ctx.db.transaction() as db:
        db.get(ScanConfig, world.scan.id).metrics_row_limit = 3  # type: ignore[union-attr]
    with pytest.raises(ScanFailed, match="metrics_row_limit"):
        world.collect()
    assert world.row_count() == 0


def test_an_unset_chunk_that_reaches_the_row_limit_is_read_again_in_halves(world: World) -> None:
    def configure(chunk: ScanInterval | None, limit: int) -> None:
        with world.ctx.db.transaction() as db:
            scan = db.get(ScanConfig, world.scan.id)
            assert scan is not None
            scan.replay_chunk_interval, scan.metrics_row_limit = chunk, limit

    configure(ScanInterval.d1, 7)  # the three hours in one query return more than 7 rows
    with pytest.raises(ScanFailed, match="or use a shorter replay_chunk_interval"):
        world.collect(world.control(T0, T0 + 3 * H))
    configure(None, 7)  # the same day chunk, chosen by tripl: halved until each part fits
    control = world.control(T0, T0 + 3 * H)
    result = world.collect(control)
    assert result["chunks"] > 1 and world.series(P, world.scan.id) == {T0: 9, T0 + H: 5, T0 + 2 * H: 4}
    assert control.reports[-1]["chunks_done"] == control.reports[-1]["chunks_total"] == result["chunks"]
    configure(None, 1)  # a single bucket over the limit cannot be split
    with pytest.raises(ScanFailed, match="one bucket exceeds it"):
        world.collect(world.control(T0, T0 + 3 * H))


DAY = timedelta(days=1)


def set_chunk(world: World, chunk: ScanInterval | None) -> None:
    with world.ctx.db.transaction() as db:
        db.get(ScanConfig, world.scan.id).replay_chunk_interval = chunk  # type: ignore[union-attr]


def test_unset_chunks_grow_while_cheap_and_store_what_day_chunks_store(world: World) -> None:
    span = (T0 - 4 * DAY, T0 + 6 * DAY)  # ten days; the rows are all in T0's first hours
    set_chunk(world, ScanInterval.d1)
    assert world.collect(world.control(*span))["chunks"] == 10
    in_days = stored(world)
    with world.ctx.db.transaction() as db:  # start again from nothing
        db.execute(delete(MetricSeries).where(MetricSeries.scan_config_id == world.scan.id))
        db.execute(delete(CoveragePoint).where(CoveragePoint.scan_config_id == world.scan.id))
    assert world.row_count() == 0

    set_chunk(world, None)
    control = world.control(*span)
    result = world.collect(control)
    # 1 day, read quickly and far below the row limit: the nine days left fit in the next chunk.
    assert result["chunks"] == 2 and result["query_rows_scanned"] == len(ROWS)
    assert stored(world) == in_days
    assert [(r["chunks_done"], r["chunks_total"]) for r in control.reports] == [(1, 2), (2, 2)]


def test_unset_chunks_stay_a_day_while_reads_are_slow(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collection, "GROW_BELOW_SECONDS", 0.0)  # every read counts as slow
    set_chunk(world, None)
    control = world.control(T0 - 4 * DAY, T0 + 6 * DAY)
    assert world.collect(control)["chunks"] == 10
    assert control.reports[0]["chunks_total"] == 10


def results_of(rows: int, span: timedelta = DAY) -> list[ChunkResults]:
    result = ColumnarResult(columns=[], data=[], row_count=rows)
    return [ChunkResults(T0, T0 + span, result, [result])]


def test_unset_chunks_grow_to_what_the_last_read_predicts_stays_cheap() -> None:
    windows = ChunkWindows("1d", grows=True, end=T0 + 100 * DAY, row_limit=1000)
    assert windows.end_of(T0) == T0 + DAY
    assert windows.end_of(T0 + H) == T0 + 2 * DAY  # at least a day, ending on the day grid
    windows.read(results_of(100, 23 * H), 0.1)  # 23 hours: 2 days would return 209 rows, 4 days
    assert windows.end_of(T0 + DAY) == T0 + 3 * DAY  # 417: over a quarter of the row limit
    windows.read(results_of(126, 2 * DAY), 0.1)  # 4 days would return 252 rows: it stays
    assert windows.end_of(T0 + 3 * DAY) == T0 + 5 * DAY
    windows.read(results_of(10, 2 * DAY), 0.3)  # 4 days would read in 0.6 s, 8 days in 1.2 s,
    assert windows.end_of(T0) == T0 + 8 * DAY  # 16 days in 2.4 s: slower than GROW_BELOW_SECONDS
    windows.read(results_of(10, 8 * DAY), 1.9)  # a slow chunk never shrinks the next one
    assert windows.end_of(T0) == T0 + 8 * DAY
    windows.read(results_of(0, 8 * DAY), 0.01)
    assert windows.end_of(T0) == T0 + 16 * DAY  # at most MAX_CHUNK_GROWTH days
    windows.read(results_of(10) * 2, 0.1)  # read again in halves: half as long
    assert windows.end_of(T0) == T0 + 8 * DAY and windows.chunks_left(T0 + 96 * DAY) == 1
    fixed = ChunkWindows("1d", grows=False, end=T0 + 100 * DAY, row_limit=1000)
    fixed.read(results_of(1), 0.1)
    assert fixed.end_of(T0) == T0 + DAY and fixed.chunks_left(T0 + H) == 100
    for interval in ("1h", "6h", "1d", "1w"):  # counted, exactly as the chunks are cut
        start, end = T0 + timedelta(minutes=20), T0 + timedelta(days=30, hours=5)
        windows = ChunkWindows(interval, grows=False, end=end, row_limit=1000)
        assert windows.chunks_left(start) == len(list(iter_chunks(start, end, interval))), interval


def test_chunks_follow_the_replay_chunk_interval(world: World) -> None:
    with world.ctx.db.transaction() as db:
        db.get(ScanConfig, world.scan.id).replay_chunk_interval = ScanInterval.d1  # type: ignore[union-attr]
    control = world.control(T0, T0 + 3 * H)
    result = world.collect(control)
    assert result["chunks"] == 1 and control.reports == [{"chunks_done": 1, "chunks_total": 1, "rows": 18}]
    assert world.series(P, world.scan.id) == {T0: 9, T0 + H: 5, T0 + 2 * H: 4}


def test_without_a_chunk_interval_a_chunk_is_a_day_or_the_interval_when_longer(world: World) -> None:
    with world.ctx.db.transaction() as db:
        db.get(ScanConfig, world.scan.id).replay_chunk_interval = None  # type: ignore[union-attr]
    control = world.control(T0, T0 + 3 * H)
    assert world.collect(control)["chunks"] == 1 and world.series(P, world.scan.id) == {
        T0: 9,
        T0 + H: 5,
        T0 + 2 * H: 4,
    }
    chunks = {
        (interval, chunk): chunk_interval_of(ScanConfig(interval=interval, replay_chunk_interval=chunk))
        for interval in ScanInterval
        for chunk in (None, ScanInterval.h6)
    }
    assert {key: value for key, value in chunks.items() if key[1] is None} == {
        (ScanInterval.m15, None): "1d",
        (ScanInterval.h1, None): "1d",
        (ScanInterval.h6, None): "1d",
        (ScanInterval.d1, None): "1d",
        (ScanInterval.w1, None): "1w",
    }
    assert chunks[(ScanInterval.h1, ScanInterval.h6)] == "6h"


def test_a_config_without_time_column_cannot_collect(world: World) -> None:
    with world.ctx.db.transaction() as db:
        db.get(ScanConfig, world.scan.id).time_column = None  # type: ignore[union-attr]
    with pytest.raises(ScanFailed, match="time_column"):
        world.collect()


def test_release_order_is_semver_like() -> None:
    versions = ["1.10.0", "abc", "v2", "1.9.0", "1.10.0-beta", "1.10"]
    assert sorted(versions, key=release_order_key) == ["abc", "1.9.0", "1.10.0-beta", "1.10", "1.10.0", "v2"]
    assert kept_versions(["1.2.0", "1.10.0", "1.9.0", "1.9.0"], 2) == {"1.10.0", "1.9.0"}
    assert kept_versions(["1.2.0"], 0) == set()


def test_a_column_named_event_name_names_events(world: World) -> None:
    # `event_name` is also the group-rule pseudo-field; as a real column in the format it must be read.
    with world.ctx.db.transaction() as db:
        config = db.get(ScanConfig, world.scan.id)
        assert config is not None
        config.base_query = (
            "SELECT ts, platform, type AS event_type, type || ':' || name AS event_name FROM events"
        )
        config.event_type_column = "event_type"
        config.event_name_format = "{event_name}"
        config.metric_breakdown_columns = []
        config.distribution_drift_fields = []
        config.app_version_column = None
    world.collect()
    assert world.series(E, world.home.id) == {T0: 5, T0 + H: 3, T0 + 2 * H: 4}
    assert world.series(E, world.buy.id) == {T0: 2, T0 + H: 1}
