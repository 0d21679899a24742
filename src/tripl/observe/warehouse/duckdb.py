"""DuckDB files as warehouses: read-only, sandboxed to one directory, no file/network access."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from tripl.observe.warehouse.base import (
    ColumnarResult,
    ColumnInfo,
    ConnectionConfig,
    DBType,
    LogicalType,
    QueryResult,
    TableInfo,
    WarehouseError,
    WarehouseQueryError,
    WarehouseTimeout,
    WarehouseUnreachable,
    as_columns,
)

MAX_MESSAGE_LENGTH = 1000
# DuckDB types whose numpy values are exactly what a fetched row holds (DECIMAL would turn float,
# zoned timestamps naive).
_SAME_AS_NUMPY = frozenset(
    {"VARCHAR", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "BOOLEAN", "DOUBLE", "TIMESTAMP"}
)

_NUMBER = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE"
    r"|REAL|DECIMAL|NUMERIC|INT\d*|VARINT|BIGNUM)\b"
)


def logical_type(type_name: str) -> LogicalType:
    """What a DuckDB type name means to tripl."""
    name = type_name.strip().upper()
    if name.endswith("]"):  # LIST (INTEGER[]) and ARRAY (INTEGER[3])
        return LogicalType.array
    if name == "JSON" or name.startswith(("STRUCT", "MAP")):
        return LogicalType.json
    if name.startswith(("VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", "UUID", "ENUM")):
        return LogicalType.string
    if name == "BOOLEAN":
        return LogicalType.boolean
    if name.startswith("TIMESTAMP"):
        return LogicalType.datetime
    if name == "DATE":
        return LogicalType.date
    if _NUMBER.match(name):
        return LogicalType.number
    return LogicalType.other


def resolve_database_path(database_name: str, allowed_dir: Path) -> Path:
    """The DuckDB file for `database_name` (relative to `allowed_dir`), refusing anything outside it."""
    root = allowed_dir.resolve()
    name = database_name.strip()
    if not name:
        raise WarehouseError("the DuckDB database file name is empty")
    path = (root / name).resolve()
    if not path.is_relative_to(root) or path == root:
        raise WarehouseError(f"a DuckDB database must be a file inside {root}/")
    if not path.is_file():
        raise WarehouseUnreachable(f"could not open the DuckDB file {name!r}: it does not exist")
    return path


def _column_infos(description: Any) -> list[ColumnInfo]:
    return [ColumnInfo(d[0], str(d[1]), True, logical_type(str(d[1]))) for d in description or []]


def _message(exc: Exception) -> str:
    return str(exc).strip()[:MAX_MESSAGE_LENGTH] or type(exc).__name__


class DuckDBWarehouse:
    """A DuckDB file opened read-only with external access (files, network, extensions) disabled."""

    db_type = DBType.duckdb
    dialect = "duckdb"

    def __init__(self, config: ConnectionConfig, *, allowed_dir: Path) -> None:
        self._config = config
        self._allowed_dir = allowed_dir
        self._conn: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> DuckDBWarehouse:
        self._connection()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- Warehouse --
    def test_connection(self) -> str:
        version = self._run("SELECT version()", max_rows=1).rows[0][0]
        return f"DuckDB {version}"

    def list_tables(self) -> list[TableInfo]:
        rows = self._run(
            "SELECT table_schema, table_name, column_name, data_type, is_nullable"
            " FROM information_schema.columns"
            " WHERE table_catalog = current_database()"
            " AND table_schema NOT IN ('information_schema', 'pg_catalog')"
            " ORDER BY table_schema, table_name, ordinal_position",
            max_rows=1_000_000,
        ).rows
        tables: dict[str, list[ColumnInfo]] = {}
        for schema, table, column, type_name, nullable in rows:
            name = table if schema == "main" else f"{schema}.{table}"
            tables.setdefault(name, []).append(
                ColumnInfo(column, type_name, nullable == "YES", logical_type(type_name))
            )
        return [TableInfo(name, columns) for name, columns in tables.items()]

    def describe(self, sql: str) -> list[ColumnInfo]:
        rows = self._run(f"DESCRIBE {sql}", max_rows=100_000).rows
        return [ColumnInfo(row[0], row[1], row[2] != "NO", logical_type(row[1])) for row in rows]

    def query(self, sql: str, *, max_rows: int, params: Sequence[Any] = ()) -> QueryResult:
        return self._run(sql, max_rows=max_rows, params=params)

    def query_columns(self, sql: str, *, max_rows: int) -> ColumnarResult:
        """Columns as numpy arrays when every column's type converts to the same values `query`
        gives (text, integers, booleans, doubles, plain timestamps); else from the rows."""
        conn = self._connection()
        with self._watchdog(conn), self._errors():
            cursor = conn.execute(f"SELECT * FROM ({sql}) LIMIT {int(max_rows)}")  # noqa: S608 (our SQL)
            columns = _column_infos(cursor.description)
            if not all(c.type_name in _SAME_AS_NUMPY for c in columns):
                return as_columns(QueryResult(columns, cursor.fetchall()))
            arrays = list(cursor.fetchnumpy().values())
        data: list[Any] = [
            # Text and NULLs (masked) become lists of the values; the rest stay arrays.
            array.tolist() if np.ma.isMaskedArray(array) or array.dtype.kind in "OUf" else array
            for array in arrays
        ]
        return ColumnarResult(columns, data, len(arrays[0]) if arrays else 0)

    # -- internals --
    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._conn is None:
            path = resolve_database_path(self._config.database_name, self._allowed_dir)
            try:
                conn = duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})
                # External access, once disabled, cannot be switched back on by any statement.
                conn.execute("SET TimeZone = 'UTC'")
            except duckdb.Error as exc:
                raise WarehouseUnreachable(f"could not open the DuckDB file: {_message(exc)}") from None
            self._conn = conn
        return self._conn

    def _run(self, sql: str, *, max_rows: int, params: Sequence[Any] = ()) -> QueryResult:
        conn = self._connection()
        with self._watchdog(conn), self._errors():
            cursor = conn.execute(sql, list(params) if params else None)
            columns = _column_infos(cursor.description)
            rows = cursor.fetchmany(max_rows) if max_rows > 0 else []
        return QueryResult(columns=columns, rows=[tuple(row) for row in rows])

    @contextmanager
    def _watchdog(self, conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """Interrupt the running statement once the configured timeout has passed."""
        fired = threading.Event()

        def interrupt() -> None:
            fired.set()
            conn.interrupt()

        timer = threading.Timer(max(1, self._config.timeout_seconds), interrupt)
        timer.daemon = True
        timer.start()
        try:
            yield
        except duckdb.InterruptException:
            raise WarehouseTimeout(
                f"the query did not respond in time (over {self._config.timeout_seconds} s)"
            ) from None
        except WarehouseQueryError:
            if fired.is_set():
                raise WarehouseTimeout(
                    f"the query did not respond in time (over {self._config.timeout_seconds} s)"
                ) from None
            raise
        finally:
            timer.cancel()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except duckdb.InterruptException:
            raise
        except duckdb.Error as exc:
            raise WarehouseQueryError(f"query failed: {_message(exc)}") from None
