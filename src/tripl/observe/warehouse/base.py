"""The one interface every warehouse adapter implements: read-only, bounded, sanitised errors.

Adapters (duckdb, postgres, clickhouse, bigquery) live beside this file; `open_warehouse`
in `factory.py` builds the right one from a `ConnectionConfig`. SQL text comes from
`sql.py`, built once with sqlglot and rendered in the adapter's `dialect`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol


class DBType(enum.StrEnum):
    clickhouse = "clickhouse"
    postgres = "postgres"
    bigquery = "bigquery"
    duckdb = "duckdb"  # additive to the contract: embedded warehouse files (demo, local analysis)

    @property
    def dialect(self) -> str:
        """The sqlglot dialect its SQL is rendered in (the names coincide)."""
        return self.value


class LogicalType(enum.StrEnum):
    """What tripl needs to know about a column, whatever the engine calls it."""

    string = "string"
    number = "number"
    boolean = "boolean"
    datetime = "datetime"
    date = "date"
    json = "json"
    array = "array"
    other = "other"


@dataclass(frozen=True)
class ConnectionConfig:
    """Everything needed to open a warehouse; secrets already decrypted (never logged)."""

    db_type: DBType
    host: str
    port: int
    database_name: str
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_seconds: int = 300
    extra_params: dict[str, Any] = field(default_factory=dict)
    # Secret extra parameters (e.g. BigQuery service-account JSON), decrypted; never returned.
    secret_params: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type_name: str  # the engine's own type name, shown to users
    nullable: bool
    logical: LogicalType


@dataclass(frozen=True)
class TableInfo:
    name: str  # qualified the way a user would write it in a query (schema.table / dataset.table)
    columns: list[ColumnInfo]


@dataclass
class QueryResult:
    columns: list[ColumnInfo]
    rows: list[tuple[Any, ...]]


@dataclass
class ColumnarResult:
    """A result as one sequence per column, in `columns` order: a numpy array where the adapter
    has one (DuckDB: integer, boolean and timestamp columns without NULLs), else a list of the
    values `query` would have returned."""

    columns: list[ColumnInfo]
    data: list[Any]  # Sequence[Any] | numpy.ndarray
    row_count: int


def as_columns(result: QueryResult) -> ColumnarResult:
    """`result`'s rows as columns (lists)."""
    data = [list(map(itemgetter(i), result.rows)) for i in range(len(result.columns))]
    return ColumnarResult(result.columns, data, len(result.rows))


class WarehouseError(Exception):
    """A failure whose message is safe to show to users (no credentials, no internals)."""


class WarehouseUnreachable(WarehouseError):
    pass


class WarehouseAuthFailed(WarehouseError):
    pass


class WarehouseTimeout(WarehouseError):
    pass


class WarehouseQueryError(WarehouseError):
    """The warehouse rejected the query (bad column, syntax, permissions); message is sanitised."""


class Warehouse(Protocol):
    """An open, read-only connection. Use as a context manager; every call is bounded."""

    db_type: DBType
    dialect: str  # sqlglot dialect used to render SQL for this engine

    def __enter__(self) -> Warehouse: ...

    def __exit__(self, *exc: object) -> None: ...

    def test_connection(self) -> str:
        """Probe the server; return a short description (engine and version). Raise WarehouseError."""
        ...

    def list_tables(self) -> list[TableInfo]:
        """Tables and views the credentials can read, with their columns."""
        ...

    def describe(self, sql: str) -> list[ColumnInfo]:
        """Columns (name, type, nullability) a SELECT would return, without reading its rows."""
        ...

    def query(self, sql: str, *, max_rows: int, params: Sequence[Any] = ()) -> QueryResult:
        """Run one read-only SELECT; return at most `max_rows` rows (callers ask for limit+1 to
        detect overflow). Runs in a read-only transaction/session with the configured timeout."""
        ...

    def query_columns(self, sql: str, *, max_rows: int) -> ColumnarResult:
        """`query` with the result as columns (bulk aggregation reads them without a Python
        object per value where the engine can hand over arrays)."""
        ...
