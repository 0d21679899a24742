"""ClickHouse adapter through clickhouse-connect, against chdb behind ClickHouse's HTTP interface."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tripl.observe.warehouse.base import (
    ConnectionConfig,
    DBType,
    LogicalType,
    WarehouseAuthFailed,
    WarehouseQueryError,
    WarehouseTimeout,
    WarehouseUnreachable,
)
from tripl.observe.warehouse.clickhouse import ClickHouseWarehouse, logical_type, unwrap_type
from tripl.observe.warehouse.factory import open_warehouse

from .builder_checks import CHECKS, JSON_CHECKS, Runner, check_ids
from .chdb_server import ChdbClickHouseServer
from .sql_dataset import ROWS, insert_values

PASSWORD = "s3cret-Pa55word"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbClickHouseServer]:
    srv = ChdbClickHouseServer(
        str(tmp_path_factory.mktemp("chdb")), users={"default": "", "reader": PASSWORD}
    )
    srv.execute("CREATE DATABASE analytics")
    srv.execute(
        "CREATE TABLE analytics.events (ts DateTime, event LowCardinality(String), props Nullable(String),"
        " amount Decimal(10, 2), is_test Bool, tags Array(String), day Date) ENGINE = MergeTree ORDER BY ts"
    )
    srv.execute(
        "INSERT INTO analytics.events VALUES"
        " ('2024-03-01 10:00:00', 'signup', NULL, 1.50, false, ['a'], '2024-03-01'),"
        " ('2024-03-01 11:00:00', 'login', '{\"k\": 1}', 2.00, true, [], '2024-03-01'),"
        " ('2024-03-02 09:30:00', 'login', NULL, 0.25, false, ['b', 'c'], '2024-03-02')"
    )
    srv.execute(
        "CREATE VIEW analytics.logins AS SELECT ts, event FROM analytics.events WHERE event = 'login'"
    )
    srv.execute("CREATE DATABASE other")
    srv.execute("CREATE TABLE other.secret (x Int32) ENGINE = Memory")
    srv.execute("CREATE DATABASE w1")  # the SQL builders' dataset (sql_dataset.py)
    srv.execute(
        "CREATE TABLE w1.events (ts DateTime('UTC'), name String, country Nullable(String),"
        " props Nullable(String)) ENGINE = MergeTree ORDER BY ts"
    )
    srv.execute(f"INSERT INTO w1.events VALUES {insert_values(ROWS)}")
    srv.start()
    yield srv
    srv.stop()


def config(server: ChdbClickHouseServer, **overrides: object) -> ConnectionConfig:
    values: dict[str, object] = {
        "db_type": DBType.clickhouse,
        "host": "127.0.0.1",
        "port": server.port,
        "database_name": "analytics",
        "username": "reader",
        "password": PASSWORD,
        "timeout_seconds": 30,
    }
    values.update(overrides)
    return ConnectionConfig(**values)  # type: ignore[arg-type]


def test_connection_reports_engine_and_version(server: ChdbClickHouseServer) -> None:
    with ClickHouseWarehouse(config(server)) as wh:
        assert wh.db_type == DBType.clickhouse and wh.dialect == "clickhouse"
        assert wh.test_connection() == f"ClickHouse {server.version}"


def test_list_tables_of_the_configured_database_with_typed_columns(server: ChdbClickHouseServer) -> None:
    with ClickHouseWarehouse(config(server)) as wh:
        tables = {t.name: t for t in wh.list_tables()}
    assert set(tables) == {"analytics.events", "analytics.logins"}
    columns = {c.name: c for c in tables["analytics.events"].columns}
    assert [c.name for c in tables["analytics.events"].columns] == [
        "ts",
        "event",
        "props",
        "amount",
        "is_test",
        "tags",
        "day",
    ]
    assert columns["event"].type_name == "LowCardinality(String)"
    assert columns["event"].logical == LogicalType.string and not columns["event"].nullable
    assert columns["props"].nullable and columns["props"].logical == LogicalType.string
    assert columns["ts"].logical == LogicalType.datetime
    assert columns["amount"].logical == LogicalType.number
    assert columns["is_test"].logical == LogicalType.boolean
    assert columns["tags"].logical == LogicalType.array
    assert columns["day"].logical == LogicalType.date


def test_describe_reads_the_result_shape_without_rows(server: ChdbClickHouseServer) -> None:
    sql = "SELECT event, count() AS cnt, toStartOfHour(ts) AS hour, any(props) AS p FROM events GROUP BY ALL"
    with ClickHouseWarehouse(config(server)) as wh:
        columns = wh.describe(sql)
    assert [(c.name, c.type_name, c.nullable, c.logical) for c in columns] == [
        ("event", "LowCardinality(String)", False, LogicalType.string),
        ("cnt", "UInt64", False, LogicalType.number),
        ("hour", "DateTime", False, LogicalType.datetime),
        ("p", "Nullable(String)", True, LogicalType.string),
    ]


def test_query_returns_typed_values_and_stops_at_max_rows(server: ChdbClickHouseServer) -> None:
    with ClickHouseWarehouse(config(server)) as wh:
        result = wh.query("SELECT ts, event, props, tags FROM events ORDER BY ts", max_rows=2)
        assert [c.name for c in result.columns] == ["ts", "event", "props", "tags"]
        assert result.rows == [
            (datetime(2024, 3, 1, 10, 0), "signup", None, ["a"]),
            (datetime(2024, 3, 1, 11, 0), "login", '{"k": 1}', []),
        ]
        columns = wh.query_columns("SELECT ts, event, props, tags FROM events ORDER BY ts", max_rows=2)
        assert (columns.row_count, list(zip(*columns.data, strict=True))) == (2, result.rows)
        # A large result is streamed and cut at max_rows, not materialised whole.
        # system.numbers is one ordered stream (numbers_mt interleaves blocks from threads).
        big = wh.query("SELECT number FROM system.numbers LIMIT 5000000", max_rows=1001)
        assert big.rows == [(n,) for n in range(1001)]
        assert big.columns[0].type_name == "UInt64"


def test_query_binds_positional_parameters(server: ChdbClickHouseServer) -> None:
    with ClickHouseWarehouse(config(server)) as wh:
        result = wh.query(
            "SELECT event FROM events WHERE event = %s ORDER BY ts", max_rows=10, params=["login"]
        )
    assert result.rows == [("login",), ("login",)]


def test_every_statement_is_read_only_and_time_bounded(server: ChdbClickHouseServer) -> None:
    server.requests.clear()
    with ClickHouseWarehouse(config(server, timeout_seconds=42)) as wh:
        wh.query("SELECT 1", max_rows=1)
        with pytest.raises(WarehouseQueryError, match="readonly"):
            wh.query("DROP TABLE events", max_rows=1)
        # The request's settings come last, so a query cannot switch read-only off for itself.
        with pytest.raises(WarehouseQueryError, match="readonly"):
            wh.query("SELECT 1 SETTINGS readonly = 0", max_rows=1)
    assert server.execute("EXISTS TABLE analytics.events").strip() == "1"
    sent = [r.params for r in server.requests if r.query.startswith(("SELECT 1\n", "SELECT 1 SETTINGS"))]
    assert sent and all(p["readonly"] == "2" and p["max_execution_time"] == "42" for p in sent)
    assert all("session_id" not in r.params for r in server.requests)


def test_query_error_is_sanitised(server: ChdbClickHouseServer) -> None:
    with ClickHouseWarehouse(config(server)) as wh, pytest.raises(WarehouseQueryError) as caught:
        wh.query("SELECT no_such_column FROM events", max_rows=1)
    message = str(caught.value)
    assert message.startswith("ClickHouse rejected the query:")
    assert "no_such_column" in message
    assert PASSWORD not in message and str(server.port) not in message and "version" not in message


def test_multi_statements_are_refused(server: ChdbClickHouseServer) -> None:
    with (
        ClickHouseWarehouse(config(server)) as wh,
        pytest.raises(WarehouseQueryError, match="Multi-statements"),
    ):
        wh.query("SELECT 1; SELECT 2", max_rows=1)


def test_wrong_password_is_an_auth_failure_without_the_password(server: ChdbClickHouseServer) -> None:
    wh = ClickHouseWarehouse(config(server, password="wrong-" + PASSWORD))
    with wh, pytest.raises(WarehouseAuthFailed) as caught:
        wh.test_connection()
    assert "reader" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_unknown_database_is_a_query_error(server: ChdbClickHouseServer) -> None:
    wh = ClickHouseWarehouse(config(server, database_name="nope"))
    with wh, pytest.raises(WarehouseQueryError, match="nope"):
        wh.test_connection()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_closed_port_is_unreachable(server: ChdbClickHouseServer) -> None:
    wh = ClickHouseWarehouse(config(server, port=free_port()))
    with wh, pytest.raises(WarehouseUnreachable, match="Could not reach"):
        wh.test_connection()


def test_server_side_time_limit_is_a_timeout(server: ChdbClickHouseServer) -> None:
    with ClickHouseWarehouse(config(server, timeout_seconds=1)) as wh:
        wh.test_connection()
        started = time.monotonic()
        with pytest.raises(WarehouseTimeout, match="time limit"):
            wh.query("SELECT sleep(2.5)", max_rows=1)
    assert time.monotonic() - started < 2.4


def test_silent_server_is_a_timeout(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # hold the connection open, never answer
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    cfg = ConnectionConfig(
        db_type=DBType.clickhouse,
        host="127.0.0.1",
        port=int(listener.getsockname()[1]),
        database_name="analytics",
        timeout_seconds=1,
    )
    try:
        with ClickHouseWarehouse(cfg) as wh, pytest.raises(WarehouseTimeout, match="did not respond"):
            wh.test_connection()
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


@pytest.mark.parametrize(
    ("type_name", "logical"),
    [
        ("String", LogicalType.string),
        ("LowCardinality(Nullable(String))", LogicalType.string),
        ("FixedString(16)", LogicalType.string),
        ("UUID", LogicalType.string),
        ("Enum8('a' = 1, 'b' = 2)", LogicalType.string),
        ("UInt8", LogicalType.number),
        ("Int64", LogicalType.number),
        ("Float32", LogicalType.number),
        ("Decimal(18, 4)", LogicalType.number),
        ("Nullable(Decimal128(2))", LogicalType.number),
        ("Bool", LogicalType.boolean),
        ("DateTime", LogicalType.datetime),
        ("DateTime64(3, 'UTC')", LogicalType.datetime),
        ("Nullable(DateTime('Europe/Berlin'))", LogicalType.datetime),
        ("Date", LogicalType.date),
        ("Date32", LogicalType.date),
        ("Array(Nullable(String))", LogicalType.array),
        ("JSON", LogicalType.json),
        ("JSON(max_dynamic_paths = 10)", LogicalType.json),
        ("Object('json')", LogicalType.json),
        ("Map(String, UInt64)", LogicalType.json),
        ("Tuple(a String, b Int32)", LogicalType.other),
        ("Nothing", LogicalType.other),
    ],
)
def test_logical_type_mapping(type_name: str, logical: LogicalType) -> None:
    assert logical_type(type_name) == logical


def test_nullability_looks_through_low_cardinality() -> None:
    assert unwrap_type("LowCardinality(Nullable(String))") == ("String", True)
    assert unwrap_type("Array(Nullable(String))") == ("Array(Nullable(String))", False)


# --- the SQL builders (sql.py, clickhouse dialect) end to end through clickhouse-connect ---------


@pytest.fixture(scope="module")
def builder_runner(server: ChdbClickHouseServer) -> Iterator[Runner]:
    with ClickHouseWarehouse(config(server, database_name="w1")) as wh:
        yield Runner("clickhouse", lambda sql: wh.query(sql, max_rows=10_000).rows)


@pytest.mark.parametrize("check", CHECKS + JSON_CHECKS, ids=check_ids(CHECKS + JSON_CHECKS))
def test_sql_builders_through_the_adapter(builder_runner: Runner, check: Callable[[Runner], None]) -> None:
    check(builder_runner)


def test_factory_opens_this_adapter(server: ChdbClickHouseServer, tmp_path: Path) -> None:
    with open_warehouse(config(server), duckdb_dir=tmp_path) as wh:
        assert isinstance(wh, ClickHouseWarehouse)
        assert wh.query("SELECT count() FROM events", max_rows=1).rows == [(3,)]


class _Unavailable(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_overloaded_server_is_unreachable_not_a_query_error() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    cfg = ConnectionConfig(DBType.clickhouse, "127.0.0.1", int(httpd.server_address[1]), "analytics")
    try:
        with ClickHouseWarehouse(cfg) as wh, pytest.raises(WarehouseUnreachable, match="unavailable"):
            wh.test_connection()
    finally:
        httpd.shutdown()
        httpd.server_close()
