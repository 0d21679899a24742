"""The PostgreSQL adapter and the postgres SQL dialect, on the local PostgreSQL server.

The test database gets an `events` table (timestamptz, jsonb) in `public` and the same rows with a
naive `timestamp` column in schema `naive` (reached through the `search_path` extra parameter).
The shared local server trusts loopback connections, so password rejection and TLS are tested on a
private cluster started from the installed PostgreSQL binaries (`pg_cluster.py`).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tripl.observe.warehouse import postgres as postgres_adapter
from tripl.observe.warehouse import sql as wsql
from tripl.observe.warehouse.base import (
    ConnectionConfig,
    DBType,
    LogicalType,
    WarehouseAuthFailed,
    WarehouseError,
    WarehouseQueryError,
    WarehouseTimeout,
    WarehouseUnreachable,
)
from tripl.observe.warehouse.factory import open_warehouse
from tripl.observe.warehouse.guard import HostRefused
from tripl.observe.warehouse.postgres import PostgresWarehouse, logical_type
from tripl.observe.warehouse.sql import ColumnSpec

from .builder_checks import CHECKS, JSON_CHECKS, Runner, check_ids
from .pg_cluster import PASSWORD as CLUSTER_PASSWORD
from .pg_cluster import USER as CLUSTER_USER
from .pg_cluster import Cluster, running_cluster
from .sql_dataset import ROWS, insert_values

SECRET = "pw-Zq81-secret"


@pytest.fixture(scope="module")
def database(pg_database_factory: Callable[[], str]) -> str:
    name = str(make_url(pg_database_factory()).database)
    with psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname=name, autocommit=True) as conn:
        values = insert_values(ROWS)
        conn.execute("SET TimeZone = 'UTC'")  # the zone-less literals below are UTC
        conn.execute("CREATE TABLE events (ts timestamptz, name text, country text, props jsonb)")
        conn.execute(f"INSERT INTO events VALUES {values}")
        conn.execute("CREATE SCHEMA naive")
        conn.execute("CREATE TABLE naive.events (ts timestamp, name text, country text, props json)")
        conn.execute(f"INSERT INTO naive.events VALUES {values}")
        conn.execute("CREATE TABLE audit_log (id serial PRIMARY KEY, note text)")
        conn.execute(
            "CREATE FUNCTION write_audit() RETURNS int LANGUAGE sql AS"
            " $$ INSERT INTO audit_log (note) VALUES ('written') RETURNING id $$"
        )
    return name


def config(database: str, **overrides: Any) -> ConnectionConfig:
    values: dict[str, Any] = {
        "db_type": DBType.postgres,
        "host": "127.0.0.1",
        "port": 5432,
        "database_name": database,
        "username": "postgres",
        "timeout_seconds": 10,
    }
    values.update(overrides)
    return ConnectionConfig(**values)


@pytest.fixture(scope="module")
def warehouse(database: str) -> Iterator[PostgresWarehouse]:
    with PostgresWarehouse(config(database)) as wh:
        yield wh


@pytest.fixture(scope="module")
def naive_warehouse(database: str) -> Iterator[PostgresWarehouse]:
    with PostgresWarehouse(config(database, extra_params={"search_path": "naive"})) as wh:
        yield wh


def _runner(wh: PostgresWarehouse) -> Runner:
    return Runner("postgres", lambda sql: wh.query(sql, max_rows=10_000).rows)


@pytest.fixture(params=["timestamptz", "timestamp"])
def runner(request: pytest.FixtureRequest) -> Runner:
    name = "warehouse" if request.param == "timestamptz" else "naive_warehouse"
    return _runner(request.getfixturevalue(name))


@pytest.mark.parametrize("check", CHECKS + JSON_CHECKS, ids=check_ids(CHECKS + JSON_CHECKS))
def test_builder_on_postgres(runner: Runner, check: Callable[[Runner], None]) -> None:
    check(runner)


def test_connection_probe_names_the_server(warehouse: PostgresWarehouse) -> None:
    assert warehouse.test_connection().startswith("PostgreSQL 1")


def test_factory_builds_postgres_and_honours_sslmode(database: str) -> None:
    with open_warehouse(config(database, extra_params={"sslmode": "disable"}), duckdb_dir=Path(".")) as wh:
        assert wh.dialect == "postgres"
        assert wh.query("SELECT 41 + 1", max_rows=1).rows == [(42,)]


def test_list_tables_with_logical_types(warehouse: PostgresWarehouse) -> None:
    tables = {t.name: t for t in warehouse.list_tables()}
    assert {"public.events", "naive.events", "public.audit_log"} <= set(tables)
    assert not any(name.startswith(("pg_catalog.", "information_schema.")) for name in tables)
    columns = {c.name: c for c in tables["public.events"].columns}
    assert [c.name for c in tables["public.events"].columns] == ["ts", "name", "country", "props"]
    assert columns["ts"].logical == LogicalType.datetime
    assert columns["props"].type_name == "jsonb"
    assert columns["props"].logical == LogicalType.json
    assert columns["name"].logical == LogicalType.string
    naive = {c.name: c for c in tables["naive.events"].columns}
    assert naive["props"].logical == LogicalType.json
    assert naive["ts"].type_name == "timestamp without time zone"


def test_describe_reads_columns_without_rows(warehouse: PostgresWarehouse) -> None:
    sql = wsql.describe_sql(
        "SELECT ts, props, 1.5 AS ratio, true AS flag, ARRAY[1, 2] AS ids, current_date AS day FROM events",
        "postgres",
    )
    columns = warehouse.describe(sql)
    assert [(c.name, c.logical) for c in columns] == [
        ("ts", LogicalType.datetime),
        ("props", LogicalType.json),
        ("ratio", LogicalType.number),
        ("flag", LogicalType.boolean),
        ("ids", LogicalType.array),
        ("day", LogicalType.date),
    ]


def test_type_names_map_to_logical_types() -> None:
    assert logical_type("character varying") == LogicalType.string
    assert logical_type("double precision") == LogicalType.number
    assert logical_type("int8") == LogicalType.number
    assert logical_type("interval") == LogicalType.other
    assert logical_type("text[]") == LogicalType.array


def test_max_rows_is_honoured(warehouse: PostgresWarehouse) -> None:
    result = warehouse.query("SELECT n FROM generate_series(1, 100000) AS n", max_rows=5)
    assert result.rows == [(1,), (2,), (3,), (4,), (5,)]
    columns = warehouse.query_columns("SELECT n, 'x' AS s FROM generate_series(1, 100000) AS n", max_rows=3)
    assert (columns.row_count, columns.data) == (3, [[1, 2, 3], ["x", "x", "x"]])
    assert warehouse.query("SELECT n FROM generate_series(1, 3) AS n", max_rows=10).rows == [(1,), (2,), (3,)]


def test_writes_fail_as_read_only(warehouse: PostgresWarehouse, database: str) -> None:
    with pytest.raises(WarehouseQueryError, match="read-only transaction"):
        warehouse.query("SELECT write_audit()", max_rows=1)
    with pytest.raises(WarehouseQueryError):
        warehouse.query("CREATE TABLE sneaky (a int)", max_rows=1)
    with pytest.raises(WarehouseQueryError):
        warehouse.query("SELECT 1; DROP TABLE events", max_rows=1)
    with psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname=database) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == (0,)
        assert conn.execute("SELECT to_regclass('sneaky')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (len(ROWS),)
    assert warehouse.query("SELECT count(*) FROM events", max_rows=1).rows == [(len(ROWS),)]


def test_statement_timeout_fires_and_the_connection_stays_usable(database: str) -> None:
    with PostgresWarehouse(config(database, timeout_seconds=1)) as wh:
        started = time.monotonic()
        with pytest.raises(WarehouseTimeout, match="did not respond in time"):
            wh.query("SELECT pg_sleep(5)", max_rows=1)
        assert time.monotonic() - started < 4
        assert wh.query("SELECT 1", max_rows=1).rows == [(1,)]


def test_rejected_login_is_sanitised(database: str) -> None:
    with (
        pytest.raises(WarehouseAuthFailed) as caught,
        PostgresWarehouse(config(database, username="no_such_role", password=SECRET)) as wh,
    ):
        wh.test_connection()
    assert str(caught.value) == "authentication was rejected for user 'no_such_role' at 127.0.0.1:5432"
    assert SECRET not in repr(caught.value)


def test_unreachable_server_is_sanitised(database: str) -> None:
    with (
        pytest.raises(WarehouseUnreachable) as caught,
        PostgresWarehouse(config(database, port=1, password=SECRET)),
    ):
        pass
    assert str(caught.value) == "could not reach 127.0.0.1:1"


def test_missing_database_is_named() -> None:
    with (
        pytest.raises(WarehouseError, match="the database 'no_such_db_w1' does not exist"),
        PostgresWarehouse(config("no_such_db_w1", password=SECRET)),
    ):
        pass


def test_query_errors_carry_the_engine_message_without_the_password(database: str) -> None:
    with PostgresWarehouse(config(database, password=SECRET)) as wh:
        with pytest.raises(WarehouseQueryError) as caught:
            wh.query(f"SELECT CAST('{SECRET}' AS integer)", max_rows=1)
        with pytest.raises(WarehouseQueryError, match='column "nope" does not exist'):
            wh.query("SELECT nope FROM events", max_rows=1)
    assert "invalid input syntax for type integer" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_unknown_sslmode_is_refused(database: str) -> None:
    with (
        pytest.raises(WarehouseError, match="unknown sslmode 'sometimes'"),
        PostgresWarehouse(config(database, extra_params={"sslmode": "sometimes"})),
    ):
        pass


def test_factory_refuses_metadata_hosts_before_connecting(database: str) -> None:
    with pytest.raises(HostRefused, match="cloud metadata"):
        open_warehouse(config(database, host="169.254.169.254"), duckdb_dir=Path("."))


def test_servers_without_date_bin_are_refused(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the local server is 14+, so pretend the bar is higher to walk the refusal path on a real connection
    monkeypatch.setattr(postgres_adapter, "MIN_SERVER_VERSION", 990000)
    with (
        pytest.raises(WarehouseError, match=r"PostgreSQL 14 or newer is required \(tripl needs date_bin\)"),
        PostgresWarehouse(config(database)),
    ):
        pass


def test_percent_signs_need_no_escaping_without_params(warehouse: PostgresWarehouse) -> None:
    sql = wsql.grouped_counts_sql(
        "SELECT * FROM events WHERE name LIKE 'sign%'", "postgres", columns=[ColumnSpec("name")], limit=5
    )
    assert warehouse.query(sql, max_rows=5).rows == [("signup", 4)]
    assert warehouse.query("SELECT %s::int + 1", max_rows=1, params=[41]).rows == [(42,)]


# --- a private cluster with SCRAM passwords and TLS ----------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with running_cluster() as started:
        if started is None:
            pytest.skip("PostgreSQL server binaries are not available to start a private cluster")
        yield started


def cluster_config(cluster: Cluster, **overrides: Any) -> ConnectionConfig:
    values: dict[str, Any] = {"port": cluster.port, "username": CLUSTER_USER, "password": CLUSTER_PASSWORD}
    values.update(overrides)
    return config("postgres", **values)


def test_wrong_password_is_rejected_without_echoing_it(cluster: Cluster) -> None:
    with (
        pytest.raises(WarehouseAuthFailed) as caught,
        PostgresWarehouse(cluster_config(cluster, password=SECRET)),
    ):
        pass
    assert str(caught.value) == f"authentication was rejected for user 'owner' at 127.0.0.1:{cluster.port}"
    assert SECRET not in repr(caught.value)
    with PostgresWarehouse(cluster_config(cluster)) as wh:
        assert wh.test_connection().startswith("PostgreSQL ")


def test_tls_is_used_when_required(cluster: Cluster) -> None:
    with PostgresWarehouse(cluster_config(cluster, extra_params={"sslmode": "require"})) as wh:
        rows = wh.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", max_rows=1).rows
    assert rows == [(True,)]


def test_server_certificate_is_verified_against_the_given_ca(cluster: Cluster) -> None:
    trusted = {"sslmode": "verify-full", "sslrootcert": cluster.ca_pem}
    with PostgresWarehouse(cluster_config(cluster, extra_params=trusted)) as wh:
        assert wh.query("SELECT 1", max_rows=1).rows == [(1,)]
    untrusted = {"sslmode": "verify-full", "sslrootcert": cluster.other_ca_pem}
    with (
        pytest.raises(
            WarehouseUnreachable, match=rf"could not reach 127\.0\.0\.1:{cluster.port}: .*certificate"
        ),
        PostgresWarehouse(cluster_config(cluster, extra_params=untrusted)),
    ):
        pass


def test_certificate_parameters_are_checked(cluster: Cluster) -> None:
    with (
        pytest.raises(WarehouseError, match="PEM text of the CA certificate"),
        PostgresWarehouse(cluster_config(cluster, extra_params={"sslrootcert": "/etc/ssl/certs/ca.pem"})),
    ):
        pass
    with (
        pytest.raises(WarehouseError, match="verify-ca needs sslrootcert"),
        PostgresWarehouse(cluster_config(cluster, extra_params={"sslmode": "verify-ca"})),
    ):
        pass


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts the TCP connection, never speaks PostgreSQL
        port = silent.getsockname()[1]
        started = time.monotonic()
        with (
            pytest.raises(WarehouseTimeout, match=rf"^127\.0\.0\.1:{port} did not respond in time$"),
            PostgresWarehouse(config("postgres", port=port, timeout_seconds=1, password=SECRET)),
        ):
            pass
    assert time.monotonic() - started < 10
