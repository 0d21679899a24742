"""The DuckDB adapter: files only from the warehouses directory, read-only, sandboxed, bounded."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from tripl.observe.warehouse import sql as wsql
from tripl.observe.warehouse.base import (
    ConnectionConfig,
    DBType,
    LogicalType,
    WarehouseError,
    WarehouseQueryError,
    WarehouseTimeout,
    WarehouseUnreachable,
)
from tripl.observe.warehouse.duckdb import DuckDBWarehouse, logical_type
from tripl.observe.warehouse.factory import open_warehouse

from .builder_checks import CHECKS, JSON_CHECKS, Runner, check_ids
from .sql_dataset import ROWS, insert_values


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data") / "warehouses"
    (root / "team").mkdir(parents=True)
    conn = duckdb.connect(str(root / "events.duckdb"))
    conn.execute("CREATE TABLE events (ts TIMESTAMP, name VARCHAR, country VARCHAR, props JSON)")
    conn.execute(f"INSERT INTO events VALUES {insert_values(ROWS)}")
    conn.execute("CREATE SCHEMA shop")
    conn.execute(
        "CREATE TABLE shop.orders (id UUID NOT NULL, amount DECIMAL(10, 2), paid BOOLEAN, day DATE,"
        " paid_at TIMESTAMPTZ, tags VARCHAR[], address STRUCT(city VARCHAR), photo BLOB)"
    )
    conn.execute("CREATE VIEW signups AS SELECT * FROM events WHERE name = 'signup'")
    conn.close()
    duckdb.connect(str(root / "team" / "small.duckdb")).close()
    return root


def config(name: str, **overrides: Any) -> ConnectionConfig:
    values: dict[str, Any] = {"db_type": DBType.duckdb, "host": "", "port": 0, "database_name": name}
    values.update(overrides)
    return ConnectionConfig(**values)


@pytest.fixture(scope="module")
def warehouse(warehouses: Path) -> Iterator[DuckDBWarehouse]:
    with DuckDBWarehouse(config("events.duckdb"), allowed_dir=warehouses) as wh:
        yield wh


def test_connection_probe(warehouse: DuckDBWarehouse) -> None:
    assert warehouse.test_connection().startswith("DuckDB v")


def test_factory_opens_files_inside_the_directory(warehouses: Path) -> None:
    for name in (
        "events.duckdb",
        str(warehouses / "events.duckdb"),
        "team/small.duckdb",
        "team/../events.duckdb",
    ):
        with open_warehouse(config(name), duckdb_dir=warehouses) as wh:
            assert wh.dialect == "duckdb"
            assert wh.query("SELECT 42", max_rows=1).rows == [(42,)]


@pytest.mark.parametrize("name", ["../outside.duckdb", "/etc/passwd", ".", "", "team/../../outside.duckdb"])
def test_paths_outside_the_directory_are_refused(warehouses: Path, name: str) -> None:
    (warehouses.parent / "outside.duckdb").touch()
    with (
        pytest.raises(WarehouseError, match=r"must be a file inside|empty"),
        open_warehouse(config(name), duckdb_dir=warehouses),
    ):
        pass


def test_symlinks_escaping_the_directory_are_refused(warehouses: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.duckdb"
    duckdb.connect(str(outside)).close()
    link = warehouses / "link.duckdb"
    link.symlink_to(outside)
    try:
        with (
            pytest.raises(WarehouseError, match="must be a file inside"),
            open_warehouse(config("link.duckdb"), duckdb_dir=warehouses),
        ):
            pass
    finally:
        link.unlink()


def test_missing_file_is_unreachable(warehouses: Path) -> None:
    with (
        pytest.raises(WarehouseUnreachable, match=r"'nope\.duckdb': it does not exist"),
        open_warehouse(config("nope.duckdb"), duckdb_dir=warehouses),
    ):
        pass


def test_writes_are_refused(warehouse: DuckDBWarehouse, warehouses: Path) -> None:
    with pytest.raises(WarehouseQueryError, match="read-only"):
        warehouse.query("CREATE TABLE sneaky (a INTEGER)", max_rows=1)
    with pytest.raises(WarehouseQueryError, match="read-only"):
        warehouse.query("DELETE FROM events", max_rows=1)
    assert warehouse.query("SELECT count(*) FROM events", max_rows=1).rows == [(len(ROWS),)]


def test_files_and_settings_are_out_of_reach(warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(WarehouseQueryError, match="disabled by configuration"):
        warehouse.query("SELECT * FROM read_csv('/etc/passwd')", max_rows=1)
    with pytest.raises(WarehouseQueryError, match="Cannot enable external access"):
        warehouse.query("SET enable_external_access = true", max_rows=1)


def test_timeout_interrupts_the_query(warehouses: Path) -> None:
    with DuckDBWarehouse(config("events.duckdb", timeout_seconds=1), allowed_dir=warehouses) as wh:
        started = time.monotonic()
        with pytest.raises(WarehouseTimeout, match="did not respond in time"):
            wh.query("SELECT sum(a.range * b.range) FROM range(2000000) a, range(2000000) b", max_rows=1)
        assert time.monotonic() - started < 5
        assert wh.query("SELECT 1", max_rows=1).rows == [(1,)]


def test_max_rows_is_honoured(warehouse: DuckDBWarehouse) -> None:
    assert warehouse.query("SELECT range FROM range(1000000)", max_rows=3).rows == [(0,), (1,), (2,)]
    assert warehouse.query("SELECT ?::INTEGER + 1", max_rows=1, params=[41]).rows == [(42,)]


def test_list_tables_with_logical_types(warehouse: DuckDBWarehouse) -> None:
    tables = {t.name: t for t in warehouse.list_tables()}
    assert set(tables) == {"events", "signups", "shop.orders"}
    events = {c.name: c.logical for c in tables["events"].columns}
    assert events == {
        "ts": LogicalType.datetime,
        "name": LogicalType.string,
        "country": LogicalType.string,
        "props": LogicalType.json,
    }
    orders = {c.name: (c.type_name, c.logical, c.nullable) for c in tables["shop.orders"].columns}
    assert orders == {
        "id": ("UUID", LogicalType.string, False),
        "amount": ("DECIMAL(10,2)", LogicalType.number, True),
        "paid": ("BOOLEAN", LogicalType.boolean, True),
        "day": ("DATE", LogicalType.date, True),
        "paid_at": ("TIMESTAMP WITH TIME ZONE", LogicalType.datetime, True),
        "tags": ("VARCHAR[]", LogicalType.array, True),
        "address": ("STRUCT(city VARCHAR)", LogicalType.json, True),
        "photo": ("BLOB", LogicalType.other, True),
    }


def test_describe_does_not_read_rows(warehouse: DuckDBWarehouse) -> None:
    columns = warehouse.describe(wsql.describe_sql("SELECT name, props, 1.5 AS ratio FROM events", "duckdb"))
    assert [(c.name, c.type_name, c.logical) for c in columns] == [
        ("name", "VARCHAR", LogicalType.string),
        ("props", "JSON", LogicalType.json),
        ("ratio", "DECIMAL(2,1)", LogicalType.number),
    ]


def test_describe_accepts_a_raw_with_query(warehouse: DuckDBWarehouse) -> None:
    columns = warehouse.describe(
        "WITH s AS (SELECT name FROM events) SELECT name, count(*) AS n FROM s GROUP BY 1"
    )
    assert [(c.name, c.logical) for c in columns] == [("name", LogicalType.string), ("n", LogicalType.number)]


def test_query_errors_carry_the_engine_message(warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(WarehouseQueryError, match=r'^query failed: Binder Error: .*"nope"'):
        warehouse.query("SELECT nope FROM events", max_rows=1)


def test_type_names_map_to_logical_types() -> None:
    assert logical_type("BIGINT") == LogicalType.number
    assert logical_type("INTEGER[3]") == LogicalType.array
    assert logical_type("MAP(VARCHAR, INTEGER)") == LogicalType.json
    assert logical_type("INTERVAL") == LogicalType.other
    assert logical_type("TIMESTAMP_NS") == LogicalType.datetime


@pytest.mark.parametrize("check", CHECKS + JSON_CHECKS, ids=check_ids(CHECKS + JSON_CHECKS))
def test_builder_through_the_adapter(warehouse: DuckDBWarehouse, check: Callable[[Runner], None]) -> None:
    check(Runner("duckdb", lambda sql: warehouse.query(sql, max_rows=10_000).rows))


def test_query_columns_hold_what_query_returns(warehouse: DuckDBWarehouse) -> None:
    values = (
        "SELECT * FROM (VALUES (TIMESTAMP '2024-01-01 01:00', 'a', 1::BIGINT, true, 2.5::DOUBLE, 7),"
        " (TIMESTAMP '2024-01-01 02:00', NULL, 2::BIGINT, false, NULL, 8)) t(ts, s, n, b, d, i)"
    )
    # Decimals and zoned timestamps would change as numpy values: those results come from rows.
    other_types = [
        "SELECT 1.50::DECIMAL(4,2) AS dec",
        "SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS tz",
        "SELECT DATE '2024-01-02' AS day",
    ]
    for sql in (values, *other_types):
        rows = warehouse.query(sql, max_rows=10).rows
        result = warehouse.query_columns(sql, max_rows=10)
        as_lists = [column.tolist() if isinstance(column, np.ndarray) else column for column in result.data]
        assert list(zip(*as_lists, strict=True)) == rows
        # Equal and of the same type: a float equals a Decimal, yet renders apart in an identity.
        assert [tuple(map(type, row)) for row in zip(*as_lists, strict=True)] == [
            tuple(map(type, row)) for row in rows
        ]
        assert result.row_count == len(rows)
    arrays = warehouse.query_columns(values, max_rows=10).data
    assert [isinstance(column, np.ndarray) for column in arrays] == [True, False, True, True, False, True]
    assert warehouse.query_columns("SELECT * FROM range(100)", max_rows=5).row_count == 5
