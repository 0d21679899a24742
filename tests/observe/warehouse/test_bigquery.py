"""BigQuery adapter through google-cloud-bigquery, against a loopback BigQuery REST API on DuckDB."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tripl.observe.warehouse import sql as wsql
from tripl.observe.warehouse.base import (
    ConnectionConfig,
    DBType,
    LogicalType,
    WarehouseAuthFailed,
    WarehouseQueryError,
    WarehouseTimeout,
    WarehouseUnreachable,
)
from tripl.observe.warehouse.bigquery import DEFAULT_MAXIMUM_BYTES_BILLED, BigQueryWarehouse, logical_type
from tripl.observe.warehouse.factory import open_warehouse

from .bigquery_server import MIN_BYTES_BILLED_PER_TABLE, BigQueryServer
from .builder_checks import CHECKS, Runner, check_ids
from .sql_dataset import ROWS, insert_values

PROJECT = "tripl-test"


@pytest.fixture(scope="module")
def server() -> Iterator[BigQueryServer]:
    srv = BigQueryServer(project=PROJECT)
    srv.execute("CREATE SCHEMA analytics")
    srv.execute(
        "CREATE TABLE analytics.events (ts TIMESTAMPTZ, event VARCHAR NOT NULL, props JSON,"
        " amount DECIMAL(10, 2), is_test BOOLEAN, tags VARCHAR[], day DATE, n BIGINT)"
    )
    srv.execute(
        "INSERT INTO analytics.events VALUES"
        " ('2024-03-01 10:00:00+00', 'signup', NULL, 1.5, false, ['a'], '2024-03-01', 1),"
        " ('2024-03-01 11:00:00+00', 'login', '{\"k\": 1}', 2, true, [], '2024-03-01', 2),"
        " ('2024-03-02 09:30:00+00', 'login', NULL, 0.25, false, ['b', 'c'], '2024-03-02', 3)"
    )
    srv.execute("CREATE SCHEMA staging")
    srv.execute("CREATE TABLE staging.big AS SELECT range AS id FROM range(23000)")
    srv.execute("CREATE SCHEMA w1")  # the SQL builders' dataset (sql_dataset.py)
    srv.execute("CREATE TABLE w1.events (ts TIMESTAMPTZ, name VARCHAR, country VARCHAR, props JSON)")
    srv.execute(f"INSERT INTO w1.events VALUES {insert_values(ROWS)}")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _fresh(server: BigQueryServer) -> Iterator[None]:
    server.requests.clear()
    yield
    server.job_latency_seconds = 0.0
    server.service_accounts.clear()


def config(server: BigQueryServer, *, secret: dict[str, Any] | None = None, **extra: Any) -> ConnectionConfig:
    timeout = extra.pop("timeout_seconds", 30)
    return ConnectionConfig(
        db_type=DBType.bigquery,
        host="",
        port=0,
        database_name=PROJECT,
        timeout_seconds=timeout,
        extra_params={"api_endpoint": server.url, **extra},
        secret_params=secret or {},
    )


def query_bodies(server: BigQueryServer) -> list[dict[str, Any]]:
    return [r.body for r in server.requests if r.path.endswith("/queries") and r.method == "POST"]


def test_connection_probes_with_a_capped_googlesql_job(server: BigQueryServer) -> None:
    with BigQueryWarehouse(config(server, location="EU")) as wh:
        assert wh.db_type == DBType.bigquery and wh.dialect == "bigquery"
        assert wh.test_connection() == f"BigQuery project {PROJECT} (EU)"
    [body] = query_bodies(server)
    assert body["query"] == "SELECT 1"
    assert body["useLegacySql"] is False
    assert body["maximumBytesBilled"] == str(DEFAULT_MAXIMUM_BYTES_BILLED) == "107374182400"
    assert body["jobTimeoutMs"] == "30000" and body["location"] == "EU"


def test_list_tables_reads_information_schema_per_dataset(server: BigQueryServer) -> None:
    with BigQueryWarehouse(config(server)) as wh:
        tables = {t.name: t for t in wh.list_tables()}
    assert set(tables) == {"analytics.events", "staging.big", "w1.events"}
    columns = {c.name: c for c in tables["analytics.events"].columns}
    assert [c.name for c in tables["analytics.events"].columns][:3] == ["ts", "event", "props"]
    assert (columns["ts"].type_name, columns["ts"].logical) == ("TIMESTAMP", LogicalType.datetime)
    assert not columns["event"].nullable and columns["props"].nullable
    assert columns["props"].logical == LogicalType.json
    assert (columns["tags"].type_name, columns["tags"].logical) == ("ARRAY<STRING>", LogicalType.array)
    assert columns["amount"].logical == LogicalType.number and columns["n"].type_name == "INT64"
    assert columns["is_test"].logical == LogicalType.boolean and columns["day"].logical == LogicalType.date
    # One datasets.list call, then one query per dataset (not one call per table).
    assert [r.path.rsplit("/", 1)[-1] for r in server.requests] == [
        "datasets",
        "queries",
        "queries",
        "queries",
    ]


def test_dataset_allowlist_limits_what_is_listed(server: BigQueryServer) -> None:
    with BigQueryWarehouse(config(server, dataset="staging")) as wh:
        tables = wh.list_tables()
    assert [t.name for t in tables] == ["staging.big"]
    assert not any(r.path.endswith("/datasets") for r in server.requests)


def test_describe_is_a_dry_run(server: BigQueryServer) -> None:
    sql = (
        "SELECT event, COUNT(*) AS cnt, TIMESTAMP_TRUNC(ts, HOUR) AS hour FROM analytics.events GROUP BY 1, 3"
    )
    with BigQueryWarehouse(config(server)) as wh:
        columns = wh.describe(sql)
    assert [(c.name, c.type_name, c.logical) for c in columns] == [
        ("event", "STRING", LogicalType.string),
        ("cnt", "INT64", LogicalType.number),
        ("hour", "TIMESTAMP", LogicalType.datetime),
    ]
    [insert] = [r.body for r in server.requests if r.path.endswith("/jobs")]
    assert insert["configuration"]["dryRun"] is True
    assert insert["configuration"]["query"]["maximumBytesBilled"] == "107374182400"
    assert not query_bodies(server)


def test_query_returns_typed_values_and_stops_at_max_rows(server: BigQueryServer) -> None:
    with BigQueryWarehouse(config(server)) as wh:
        result = wh.query("SELECT * FROM analytics.events ORDER BY ts", max_rows=2)
        columns = wh.query_columns("SELECT * FROM analytics.events ORDER BY ts", max_rows=2)
    assert (columns.row_count, list(zip(*columns.data, strict=True))) == (2, result.rows)
    assert [c.name for c in result.columns] == [
        "ts",
        "event",
        "props",
        "amount",
        "is_test",
        "tags",
        "day",
        "n",
    ]
    assert result.rows == [
        (
            datetime(2024, 3, 1, 10, tzinfo=UTC),
            "signup",
            None,
            Decimal("1.50"),
            False,
            ["a"],
            date(2024, 3, 1),
            1,
        ),
        (
            datetime(2024, 3, 1, 11, tzinfo=UTC),
            "login",
            {"k": 1},
            Decimal("2.00"),
            True,
            [],
            date(2024, 3, 1),
            2,
        ),
    ]
    assert query_bodies(server)[0]["maxResults"] == 2


def test_large_results_are_paged_up_to_max_rows(server: BigQueryServer) -> None:
    with BigQueryWarehouse(config(server)) as wh:
        result = wh.query("SELECT id FROM staging.big ORDER BY id", max_rows=22001)
    assert len(result.rows) == 22001 and result.rows[-1] == (22000,)
    pages = [r for r in server.requests if r.method == "GET" and "/queries/" in r.path]
    assert pages and all(int(r.params["maxResults"][0]) <= 10_000 for r in pages)


def test_query_binds_positional_parameters(server: BigQueryServer) -> None:
    with BigQueryWarehouse(config(server)) as wh:
        result = wh.query(
            "SELECT event FROM analytics.events WHERE n > ? AND event = ? ORDER BY n",
            max_rows=10,
            params=[1, "login"],
        )
    assert result.rows == [("login",), ("login",)]
    parameters = query_bodies(server)[0]["queryParameters"]
    assert [p["parameterType"]["type"] for p in parameters] == ["INT64", "STRING"]


def test_query_error_is_sanitised(server: BigQueryServer) -> None:
    with BigQueryWarehouse(config(server)) as wh, pytest.raises(WarehouseQueryError) as caught:
        wh.query("SELECT no_such_column FROM analytics.events", max_rows=1)
    message = str(caught.value)
    assert message.startswith("BigQuery rejected the query:") and "no_such_column" in message
    assert "http" not in message and str(server.url) not in message


def test_unknown_table_is_a_query_error(server: BigQueryServer) -> None:
    with BigQueryWarehouse(config(server)) as wh, pytest.raises(WarehouseQueryError, match="Not found"):
        wh.query("SELECT * FROM analytics.nope", max_rows=1)


def test_bytes_billed_cap_is_sent_and_enforced(server: BigQueryServer) -> None:
    with BigQueryWarehouse(config(server, maximum_bytes_billed=1000)) as wh:
        assert wh.query("SELECT 1 AS one", max_rows=1).rows == [(1,)]  # no table read, nothing billed
        with pytest.raises(WarehouseQueryError, match="bytes billed"):
            wh.query("SELECT event FROM analytics.events", max_rows=1)
    assert {b["maximumBytesBilled"] for b in query_bodies(server)} == {"1000"}
    cap = MIN_BYTES_BILLED_PER_TABLE
    with BigQueryWarehouse(config(server, maximum_bytes_billed=cap)) as wh:
        assert len(wh.query("SELECT event FROM analytics.events", max_rows=5).rows) == 3


def service_account(server: BigQueryServer, *, registered: bool = True) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    email = "tripl-reader@tripl-test.iam.gserviceaccount.com"
    if registered:
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        server.service_accounts[email] = public.decode()
    return {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem,
        "client_email": email,
        "client_id": "1234567890",
        "token_uri": f"{server.url}/token",
    }


@pytest.mark.parametrize("key", ["credentials_json", "service_account_json"])
def test_service_account_key_signs_in_and_queries(server: BigQueryServer, key: str) -> None:
    info = service_account(server)
    with BigQueryWarehouse(config(server, secret={key: json.dumps(info)})) as wh:
        assert wh.query("SELECT COUNT(*) AS c FROM analytics.events", max_rows=1).rows == [(3,)]
    assert server.requests[0].path == "/token"
    query = next(r for r in server.requests if r.path.endswith("/queries"))
    assert query.authorization.removeprefix("Bearer ") in server.issued_tokens


def test_rejected_service_account_is_an_auth_failure_without_the_key(server: BigQueryServer) -> None:
    service_account(server)  # the server trusts another key
    info = service_account(server, registered=False)
    wh = BigQueryWarehouse(config(server, secret={"credentials_json": json.dumps(info)}))
    with wh, pytest.raises(WarehouseAuthFailed) as caught:
        wh.test_connection()
    message = str(caught.value)
    assert "PRIVATE KEY" not in message and info["private_key_id"] not in message


def test_missing_credentials_are_an_auth_failure(server: BigQueryServer) -> None:
    service_account(server)  # the server now wants a token; anonymous requests get 401
    with BigQueryWarehouse(config(server)) as wh, pytest.raises(WarehouseAuthFailed, match="credentials"):
        wh.test_connection()


def test_malformed_credentials_json_is_refused_without_echoing_it(server: BigQueryServer) -> None:
    secret = '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----garbage"}'
    wh = BigQueryWarehouse(config(server, secret={"credentials_json": secret}))
    with wh, pytest.raises(WarehouseAuthFailed) as caught:
        wh.test_connection()
    assert "garbage" not in str(caught.value) and "PRIVATE KEY" not in str(caught.value)


def test_slow_job_is_a_timeout(server: BigQueryServer) -> None:
    server.job_latency_seconds = 3.0
    with BigQueryWarehouse(config(server, timeout_seconds=1)) as wh, pytest.raises(WarehouseTimeout):
        wh.query("SELECT 1 AS one", max_rows=1)
    assert query_bodies(server)[0]["jobTimeoutMs"] == "1000"


def test_closed_port_is_unreachable(server: BigQueryServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = config(server, timeout_seconds=1, api_endpoint=f"http://127.0.0.1:{port}")
    with BigQueryWarehouse(cfg) as wh, pytest.raises(WarehouseUnreachable, match="Could not reach"):
        wh.test_connection()


@pytest.mark.parametrize(
    ("type_name", "logical"),
    [
        ("STRING", LogicalType.string),
        ("INT64", LogicalType.number),
        ("FLOAT64", LogicalType.number),
        ("NUMERIC(10, 2)", LogicalType.number),
        ("BIGNUMERIC", LogicalType.number),
        ("BOOL", LogicalType.boolean),
        ("TIMESTAMP", LogicalType.datetime),
        ("DATETIME", LogicalType.datetime),
        ("DATE", LogicalType.date),
        ("JSON", LogicalType.json),
        ("ARRAY<STRING>", LogicalType.array),
        ("STRUCT<a INT64>", LogicalType.other),
        ("BYTES", LogicalType.other),
        ("GEOGRAPHY", LogicalType.other),
    ],
)
def test_logical_type_mapping(type_name: str, logical: LogicalType) -> None:
    assert logical_type(type_name) == logical


# --- the SQL builders (sql.py, bigquery dialect) end to end through the adapter -----------------


@pytest.fixture(scope="module")
def builder_runner(server: BigQueryServer) -> Iterator[Runner]:
    with BigQueryWarehouse(config(server, default_dataset="w1")) as wh:
        # BigQuery's JSON functions have no DuckDB transpilation, so the JSON checks stay in test_sql.py.
        yield Runner("bigquery", lambda sql: wh.query(sql, max_rows=10_000).rows, json=False)


@pytest.mark.parametrize("check", CHECKS, ids=check_ids(CHECKS))
def test_sql_builders_through_the_adapter(builder_runner: Runner, check: Callable[[Runner], None]) -> None:
    check(builder_runner)


def test_builder_queries_carry_the_cap_and_the_default_dataset(
    builder_runner: Runner, server: BigQueryServer
) -> None:
    builder_runner.run(wsql.grouped_counts_sql(builder_runner.base, "bigquery", columns=[], limit=1))
    [body] = query_bodies(server)
    assert body["defaultDataset"] == {"projectId": PROJECT, "datasetId": "w1"}
    assert body["maximumBytesBilled"] == "107374182400"


def test_factory_opens_this_adapter(server: BigQueryServer, tmp_path: Path) -> None:
    with open_warehouse(config(server), duckdb_dir=tmp_path) as wh:
        assert isinstance(wh, BigQueryWarehouse)
        assert wh.query("SELECT COUNT(*) FROM analytics.events", max_rows=1).rows == [(3,)]


@pytest.mark.parametrize(
    ("endpoint", "error"),
    [
        ("http://169.254.169.254/computeMetadata", WarehouseUnreachable),
        ("http://metadata.google.internal", WarehouseUnreachable),
        ("file:///etc/passwd", WarehouseQueryError),
    ],
)
def test_api_endpoint_override_is_guarded(
    server: BigQueryServer, endpoint: str, error: type[Exception]
) -> None:
    with BigQueryWarehouse(config(server, api_endpoint=endpoint)) as wh, pytest.raises(error):
        wh.test_connection()
    assert not server.requests
