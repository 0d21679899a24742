"""The SQL builder: base-query validation, the bucket grid, and every builder run on real engines.

DuckDB runs the duckdb dialect (also with a zoned time column in a non-UTC session), chdb the
clickhouse dialect, and BigQuery SQL is parsed back and, transpiled by sqlglot, run on DuckDB.
PostgreSQL runs the same checks in test_postgres.py.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from chdb import session as chdb_session

from tripl.observe.warehouse import sql as wsql
from tripl.observe.warehouse.buckets import (
    INTERVAL_SECONDS,
    floor_bucket,
    is_on_grid,
    iter_chunks,
    next_bucket,
)
from tripl.observe.warehouse.sql import ColumnSpec, InvalidQuery, parse_base_query

from .builder_checks import CHECKS, JSON_CHECKS, Runner, check_ids
from .sql_dataset import ROWS, at, insert_values, normalise

# --- the bucket grid in Python -----------------------------------------------------------------


def test_floor_bucket_on_each_interval() -> None:
    t = at("2024-03-14 13:47:12")  # a Thursday
    assert floor_bucket(t, "15m") == at("2024-03-14 13:45:00")
    assert floor_bucket(t, "1h") == at("2024-03-14 13:00:00")
    assert floor_bucket(t, "6h") == at("2024-03-14 12:00:00")
    assert floor_bucket(t, "1d") == at("2024-03-14 00:00:00")
    assert floor_bucket(t, "1w") == at("2024-03-11 00:00:00")  # Monday


@pytest.mark.parametrize(
    ("moment", "monday"),
    [
        ("2024-01-01 00:00:00", "2024-01-01 00:00:00"),  # a Monday is its own week start
        ("2024-01-07 23:59:59", "2024-01-01 00:00:00"),  # Sunday night belongs to the week before
        ("2024-01-08 00:00:00", "2024-01-08 00:00:00"),
        ("1970-01-05 00:00:00", "1970-01-05 00:00:00"),
        ("2000-02-29 12:00:00", "2000-02-28 00:00:00"),
    ],
)
def test_weeks_start_on_monday(moment: str, monday: str) -> None:
    bucket = floor_bucket(at(moment), "1w")
    assert bucket == at(monday)
    assert bucket.weekday() == 0


def test_buckets_are_utc_whatever_the_input_zone() -> None:
    berlin = timezone(timedelta(hours=1))
    local = datetime(2024, 1, 1, 0, 30, tzinfo=berlin)  # 2023-12-31 23:30 UTC
    assert floor_bucket(local, "1d") == at("2023-12-31 00:00:00")
    assert floor_bucket(local, "1d").tzinfo == UTC
    assert floor_bucket(datetime(2024, 1, 1, 0, 30), "1h") == at("2024-01-01 00:00:00")  # naive = UTC


def test_next_bucket_and_grid() -> None:
    assert next_bucket(at("2024-01-01 00:14:59"), "15m") == at("2024-01-01 00:15:00")
    assert next_bucket(at("2024-01-03 00:00:00"), "1w") == at("2024-01-08 00:00:00")
    assert is_on_grid(at("2024-01-01 06:00:00"), "6h")
    assert not is_on_grid(at("2024-01-01 07:00:00"), "6h")


def test_unknown_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown interval '2h'"):
        floor_bucket(at("2024-01-01 00:00:00"), "2h")


def test_chunks_cut_on_the_chunk_grid() -> None:
    chunks = list(iter_chunks(at("2024-01-01 18:00:00"), at("2024-01-03 06:00:00"), "1d"))
    assert chunks == [
        (at("2024-01-01 18:00:00"), at("2024-01-02 00:00:00")),
        (at("2024-01-02 00:00:00"), at("2024-01-03 00:00:00")),
        (at("2024-01-03 00:00:00"), at("2024-01-03 06:00:00")),
    ]
    weekly = list(iter_chunks(at("2024-01-03 00:00:00"), at("2024-01-20 00:00:00"), "1w"))
    assert [start for start, _ in weekly] == [at("2024-01-03"), at("2024-01-08"), at("2024-01-15")]
    assert list(iter_chunks(at("2024-01-02"), at("2024-01-02"), "1d")) == []


def test_chunks_by_timedelta() -> None:
    chunks = list(iter_chunks(at("2024-01-01 00:00:00"), at("2024-01-01 05:00:00"), timedelta(hours=2)))
    assert [end for _, end in chunks] == [
        at("2024-01-01 02:00"),
        at("2024-01-01 04:00"),
        at("2024-01-01 05:00"),
    ]
    with pytest.raises(ValueError, match="positive"):
        list(iter_chunks(at("2024-01-01"), at("2024-01-02"), timedelta(0)))


# --- base query validation ---------------------------------------------------------------------


@pytest.mark.parametrize("dialect", wsql.DIALECTS)
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM events",
        "  select name, count(*) from events group by name  ",
        "WITH e AS (SELECT * FROM events) SELECT * FROM e",
        "SELECT * FROM a UNION ALL SELECT * FROM b",
        "SELECT ';' AS semicolon, '-- not a comment' AS dashes FROM t",
    ],
)
def test_read_only_selects_are_accepted(dialect: str, sql: str) -> None:
    assert isinstance(parse_base_query(sql, dialect), sqlglot.exp.Query)


@pytest.mark.parametrize("dialect", wsql.DIALECTS)
@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("SELECT 1; SELECT 2", "one statement"),
        ("SELECT 1;", "remove the ';'"),
        ("SELECT 1; DROP TABLE events", "one statement"),
        ("SELECT 1 -- hi", "comments"),
        ("SELECT /* hi */ 1", "comments"),
        ("DELETE FROM events", "DELETE is not allowed"),
        ("INSERT INTO events VALUES (1)", "INSERT is not allowed"),
        ("UPDATE events SET a = 1", "UPDATE is not allowed"),
        ("DROP TABLE events", "DROP is not allowed"),
        ("CREATE TABLE x (a INT)", "CREATE is not allowed"),
        ("ALTER TABLE events ADD COLUMN b INT", "ALTER is not allowed"),
        ("TRUNCATE TABLE events", "TRUNCATE is not allowed"),
        ("GRANT SELECT ON events TO bob", "GRANT is not allowed"),
        ("SET x = 1", "SET is not allowed"),
        ("PRAGMA show_tables", "PRAGMA is not allowed"),
        ("CALL do_things()", "a command is not allowed"),
        ("COPY events TO 'out.csv'", "COPY is not allowed"),
        ("SELECT * INTO copy_of_events FROM events", "SELECT INTO is not allowed"),
        ("WITH gone AS (DELETE FROM events RETURNING *) SELECT * FROM gone", "DELETE is not allowed"),
        ("SELEC 1", "could not be parsed"),
    ],
)
def test_anything_else_is_refused_with_a_reason(dialect: str, sql: str, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message.replace("(", r"\(")):
        parse_base_query(sql, dialect)


def test_locking_clause_is_refused() -> None:
    with pytest.raises(InvalidQuery, match="FOR UPDATE"):
        parse_base_query("SELECT * FROM events FOR UPDATE", "postgres")


def test_constructs_sqlglot_would_misrender_are_refused() -> None:
    # sqlglot reads date_bin's string origin as a bare word; running its rendering would be wrong
    with pytest.raises(InvalidQuery, match="cannot pass on to postgres unchanged"):
        parse_base_query("SELECT date_bin('1 hour', ts, '2000-01-01') AS b FROM t", "postgres")
    parse_base_query("SELECT date_bin('1 hour', ts, CAST('2000-01-01' AS timestamp)) AS b FROM t", "postgres")


@pytest.mark.parametrize(
    ("dialect", "sql", "function"),
    [
        ("postgres", "SELECT dblink_exec('host=x', 'DROP TABLE t')", "dblink_exec"),
        ("postgres", "SELECT * FROM events WHERE set_config('a.b', 'c', false) IS NOT NULL", "set_config"),
        ("postgres", "SELECT pg_read_file('/etc/passwd')", "pg_read_file"),
        ("clickhouse", "SELECT * FROM url('http://169.254.169.254/', CSV, 'a String')", "url"),
        ("clickhouse", "SELECT * FROM remote('other:9000', db.t)", "remote"),
        ("clickhouse", "WITH x AS (SELECT * FROM file('a.csv')) SELECT * FROM x", "file"),
        ("duckdb", "SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("duckdb", "SELECT * FROM read_parquet('s3://bucket/x.parquet')", "read_parquet"),
        ("bigquery", "SELECT * FROM EXTERNAL_QUERY('conn', 'SELECT 1')", "external_query"),
    ],
)
def test_functions_reaching_outside_are_refused(dialect: str, sql: str, function: str) -> None:
    with pytest.raises(InvalidQuery, match=rf"the function {function}\(\) is not allowed"):
        parse_base_query(sql, dialect)


def test_duckdb_attach_is_refused() -> None:
    with pytest.raises(InvalidQuery, match="ATTACH is not allowed"):
        parse_base_query("ATTACH 'other.duckdb'", "duckdb")


def test_builders_validate_string_base_queries() -> None:
    with pytest.raises(InvalidQuery, match="DROP"):
        wsql.describe_sql("DROP TABLE events", "duckdb")
    with pytest.raises(ValueError, match="Unknown SQL dialect"):
        wsql.describe_sql("SELECT 1", "oracle")


# --- column references and quoting -------------------------------------------------------------


def test_column_refs_split_only_declared_json_columns() -> None:
    assert ColumnSpec.parse("props.ctx.os", ["props"]) == ColumnSpec("props", ("ctx", "os"))
    assert ColumnSpec.parse("props", ["props"]) == ColumnSpec("props")
    assert ColumnSpec.parse("a.b", []) == ColumnSpec("a.b")  # a column whose name has a dot
    assert ColumnSpec.parse("meta.data.x", ["meta", "meta.data"]) == ColumnSpec("meta.data", ("x",))
    assert ColumnSpec("props", ("ctx", "os")).ref == "props.ctx.os"
    with pytest.raises(InvalidQuery, match="Invalid JSON path"):
        ColumnSpec.parse("props..x", ["props"])
    with pytest.raises(InvalidQuery, match="Invalid JSON path"):
        ColumnSpec("props", ('x"y',))


@pytest.mark.parametrize("dialect", wsql.DIALECTS)
def test_all_builders_render_sql_that_parses_back(dialect: str) -> None:
    base = parse_base_query("SELECT * FROM events", dialect)
    columns = [ColumnSpec("name"), ColumnSpec("props", ("a", "b")), ColumnSpec.keys_of("props")]
    window = {"time_from": at("2024-01-01"), "time_to": at("2024-01-02")}
    rendered = [
        wsql.describe_sql(base, dialect),
        wsql.preview_sql(base, dialect, limit=5, time_column="ts", since=at("2024-01-01")),
        wsql.grouped_counts_sql(base, dialect, columns=columns, time_column="ts", limit=10, **window),
        wsql.bucketed_counts_sql(
            base, dialect, time_column="ts", interval="1w", columns=columns, limit=10, **window
        ),
        wsql.top_values_sql(
            base,
            dialect,
            time_column="ts",
            interval="1h",
            scope_columns=columns[:1],
            value_column=columns[1],
            top_n=3,
            limit=10,
            **window,
        ),
    ]
    for sql in rendered:
        assert len(sqlglot.parse(sql, read=dialect)) == 1


@pytest.mark.parametrize("dialect", wsql.DIALECTS)
@pytest.mark.parametrize(
    "base_query",
    [
        "SELECT * FROM events WHERE name LIKE 'a%'",
        # Spells out the stand-in bound of a windowed query: every window is then built in full.
        "SELECT * FROM events WHERE note <> '1901-02-03 04:05:06.789012+00'"
        " AND note <> '1901-02-03 04:05:06.789012'",
    ],
)
def test_windowed_sql_renders_each_window_exactly_as_the_builder(dialect: str, base_query: str) -> None:
    base = parse_base_query(base_query, dialect)
    columns = [ColumnSpec("name"), ColumnSpec("props", ("a",))]

    def counts(time_from: datetime, time_to: datetime) -> str:
        return wsql.bucketed_counts_sql(
            base, dialect, time_column="ts", interval="1h", columns=columns, limit=10,
            time_from=time_from, time_to=time_to,
        )  # fmt: skip

    def top_values(time_from: datetime, time_to: datetime) -> str:
        return wsql.top_values_sql(
            base, dialect, time_column="ts", interval="1h", scope_columns=columns[:1],
            value_column=columns[1], top_n=3, limit=10, time_from=time_from, time_to=time_to,
        )  # fmt: skip

    windows = [
        (at("2024-01-01"), at("2024-01-08")),
        (
            at("2024-01-08 13:00:00"),
            datetime(2024, 1, 9, 1, 30, 0, 250000, tzinfo=timezone(timedelta(hours=1))),
        ),
    ]
    for build in (counts, top_values):
        windowed = wsql.WindowedSql(build, dialect)
        for time_from, time_to in windows:
            assert windowed.render(time_from, time_to) == build(time_from, time_to)


def test_duckdb_top_values_read_the_source_once() -> None:
    # Ranking by window totals once made DuckDB scan and group the whole source twice.
    conn = duckdb.connect()
    conn.execute("CREATE TABLE events AS SELECT TIMESTAMP '2024-01-01' AS ts, 'a' AS name, 'x' AS country")
    sql = wsql.top_values_sql(
        "SELECT * FROM events", "duckdb", time_column="ts", interval="1h", scope_columns=[ColumnSpec("name")],
        value_column=ColumnSpec("country"), top_n=3, limit=10, time_from=None, time_to=None,
    )  # fmt: skip
    plan = conn.execute("EXPLAIN " + sql).fetchall()[0][1]
    assert plan.count("Seq Scan") == 1, plan
    assert conn.execute(sql).fetchall() == [(datetime(2024, 1, 1), "a", "x", False, 1)]


def test_hostile_column_names_stay_identifiers() -> None:
    conn = duckdb.connect()
    conn.execute('CREATE TABLE t ("we""ird; DROP TABLE t" VARCHAR)')
    conn.execute("INSERT INTO t VALUES ('a'), ('a'), ('b')")
    name = 'we"ird; DROP TABLE t'
    sql = wsql.grouped_counts_sql("SELECT * FROM t", "duckdb", columns=[ColumnSpec(name)], limit=10)
    assert sorted(conn.execute(sql).fetchall()) == [("a", 2), ("b", 1)]
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (3,)


def test_time_literals_are_utc_and_escaped() -> None:
    berlin = timezone(timedelta(hours=1))
    moment = datetime(2024, 1, 1, 1, 0, 0, 250000, tzinfo=berlin)
    assert wsql.time_literal(moment, "postgres").sql("postgres") == "'2024-01-01 00:00:00.250000+00'"
    assert wsql.time_literal(moment, "bigquery").sql("bigquery") == "'2024-01-01 00:00:00.250000'"
    assert wsql.time_literal(moment, "clickhouse").sql("clickhouse") == (
        "toDateTime64('2024-01-01 00:00:00.250000', 6, 'UTC')"
    )


def test_negative_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        wsql.grouped_counts_sql("SELECT 1 AS a", "duckdb", columns=[ColumnSpec("a")], limit=-1)


# --- the builders on real engines --------------------------------------------------------------


def _duckdb_with_events(path: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path))
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("CREATE TABLE events (ts TIMESTAMP, name VARCHAR, country VARCHAR, props JSON)")
    conn.execute(f"INSERT INTO events VALUES {insert_values(ROWS)}")
    return conn


def _rows(conn: duckdb.DuckDBPyConnection) -> Callable[[str], list[tuple[Any, ...]]]:
    return lambda sql: [tuple(row) for row in conn.execute(sql).fetchall()]


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = _duckdb_with_events(tmp_path_factory.mktemp("duck") / "events.duckdb")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def duck_zoned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """A TIMESTAMPTZ time column read in a session whose zone is not UTC."""
    conn = _duckdb_with_events(tmp_path_factory.mktemp("duckz") / "events.duckdb")
    conn.execute("CREATE TABLE zoned AS SELECT timezone('UTC', ts) AS ts, name, country, props FROM events")
    conn.execute("DROP TABLE events")
    conn.execute("ALTER TABLE zoned RENAME TO events")
    conn.execute("SET TimeZone = 'America/New_York'")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def chdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    sess = chdb_session.Session(str(tmp_path_factory.mktemp("chdb")))
    sess.query("CREATE DATABASE IF NOT EXISTS w1")
    sess.query("USE w1")
    sess.query(
        "CREATE TABLE events (ts DateTime('UTC'), name String, country Nullable(String),"
        " props Nullable(String)) ENGINE = Memory"
    )
    sess.query(f"INSERT INTO events VALUES {insert_values(ROWS)}")
    yield sess
    sess.close()


def _chdb_rows(sess: Any) -> Callable[[str], list[tuple[Any, ...]]]:
    def run(sql: str) -> list[tuple[Any, ...]]:
        out = str(sess.query(sql, "JSONCompactEachRow"))
        return [tuple(json.loads(line)) for line in out.splitlines() if line.strip()]

    return run


def _bigquery_on_duckdb(conn: duckdb.DuckDBPyConnection) -> Callable[[str], list[tuple[Any, ...]]]:
    def run(sql: str) -> list[tuple[Any, ...]]:
        assert len(sqlglot.parse(sql, read="bigquery")) == 1
        (transpiled,) = sqlglot.transpile(sql, read="bigquery", write="duckdb")
        return [tuple(row) for row in conn.execute(transpiled).fetchall()]

    return run


@pytest.fixture(params=["duckdb", "duckdb-zoned", "clickhouse", "bigquery"])
def runner(request: pytest.FixtureRequest) -> Runner:
    if request.param == "duckdb":
        return Runner("duckdb", _rows(request.getfixturevalue("duck")))
    if request.param == "duckdb-zoned":
        return Runner("duckdb", _rows(request.getfixturevalue("duck_zoned")))
    if request.param == "clickhouse":
        return Runner("clickhouse", _chdb_rows(request.getfixturevalue("chdb")))
    # JSON_KEYS/JSON_VALUE over JSON values have no DuckDB transpilation; those are parse-checked above.
    return Runner("bigquery", _bigquery_on_duckdb(request.getfixturevalue("duck")), json=False)


@pytest.mark.parametrize("check", CHECKS, ids=check_ids(CHECKS))
def test_builder(runner: Runner, check: Callable[[Runner], None]) -> None:
    check(runner)


@pytest.mark.parametrize("check", JSON_CHECKS, ids=check_ids(JSON_CHECKS))
def test_json_builder(runner: Runner, check: Callable[[Runner], None]) -> None:
    if not runner.json:
        pytest.skip("BigQuery JSON functions cannot be transpiled to DuckDB")
    check(runner)


# --- the SQL grid equals the Python grid on many random moments ----------------------------------


def _random_moments(count: int) -> list[datetime]:
    rng = random.Random(7)
    start = at("2019-12-30 00:00:00")
    moments = [start + timedelta(seconds=rng.randrange(0, 6 * 365 * 86400)) for _ in range(count)]
    # exact boundaries and one second either side of them
    for interval, seconds in INTERVAL_SECONDS.items():
        edge = floor_bucket(moments[0], interval)
        moments += [
            edge,
            edge - timedelta(seconds=1),
            edge + timedelta(seconds=seconds) - timedelta(seconds=1),
        ]
    return moments


@pytest.mark.parametrize("interval", list(INTERVAL_SECONDS))
def test_sql_grid_matches_python_grid_on_duckdb_and_chdb(
    interval: str, duck: duckdb.DuckDBPyConnection, chdb: Any
) -> None:
    moments = _random_moments(300)
    values = ", ".join(f"('{m:%Y-%m-%d %H:%M:%S}')" for m in moments)
    expected = sorted(floor_bucket(m, interval) for m in moments)
    for dialect in ("duckdb", "bigquery"):
        sql = f"SELECT {wsql.bucket_expr('ts', interval, dialect).sql(dialect)} FROM moments"
        if dialect == "bigquery":
            (sql,) = sqlglot.transpile(sql, read="bigquery", write="duckdb")
        duck.execute(
            "CREATE OR REPLACE TEMP TABLE moments AS"
            f" SELECT CAST(ts AS TIMESTAMP) AS ts FROM (VALUES {values}) v(ts)"
        )
        assert sorted(normalise(row[0]) for row in duck.execute(sql).fetchall()) == expected, dialect
    chdb.query("CREATE OR REPLACE TABLE moments (ts DateTime('UTC')) ENGINE = Memory")
    chdb.query(f"INSERT INTO moments VALUES {values}")
    sql = f"SELECT {wsql.bucket_expr('ts', interval, 'clickhouse').sql('clickhouse')} FROM moments"
    got = [normalise(json.loads(line)[0]) for line in str(chdb.query(sql, "JSONCompactEachRow")).splitlines()]
    assert sorted(got) == expected
