"""ClickHouse over its HTTP interface (clickhouse-connect), read-only and bounded.

Every statement carries `readonly=2` (no writes or DDL, settings still adjustable) and
`max_execution_time`, so the server stops long queries itself; the HTTP read timeout is a
slightly longer backstop. Rows are streamed and the stream is closed once `max_rows` are in.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError
from clickhouse_connect.driver.query import QueryResult as StreamedResult
from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError, ReadTimeoutError
from urllib3.exceptions import TimeoutError as UrllibTimeoutError

from tripl.observe.warehouse.base import (
    ColumnarResult,
    ColumnInfo,
    ConnectionConfig,
    DBType,
    LogicalType,
    QueryResult,
    TableInfo,
    Warehouse,
    WarehouseAuthFailed,
    WarehouseError,
    WarehouseQueryError,
    WarehouseTimeout,
    WarehouseUnreachable,
    as_columns,
)

# ClickHouse error codes that mean "who you are was refused", and "ran out of time".
_AUTH_CODES = {192, 193, 194, 516}  # UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, AUTHENTICATION_FAILED
_TIMEOUT_CODES = {159, 209, 394}  # TIMEOUT_EXCEEDED, SOCKET_TIMEOUT, QUERY_WAS_CANCELLED
_HTTP_TIMEOUT_MARGIN_SECONDS = 5
_COLUMNS = (
    "SELECT database, table, name, type FROM system.columns WHERE database = {} ORDER BY table, position"
)
_COLUMNS_OF_DATABASE = _COLUMNS.format("{db:String}")
_COLUMNS_OF_CURRENT_DATABASE = _COLUMNS.format("currentDatabase()")
_MAX_MESSAGE = 500

_NUMBER_TYPES = ("Int", "UInt", "Float", "Decimal", "BFloat")
_STRING_TYPES = ("String", "FixedString", "UUID", "Enum", "IPv4", "IPv6")


def unwrap_type(type_name: str) -> tuple[str, bool]:
    """Strip LowCardinality(...)/Nullable(...) wrappers; return the inner type and nullability."""
    inner, nullable = type_name.strip(), False
    while True:
        if inner.startswith("Nullable(") and inner.endswith(")"):
            inner, nullable = inner[len("Nullable(") : -1].strip(), True
        elif inner.startswith("LowCardinality(") and inner.endswith(")"):
            inner = inner[len("LowCardinality(") : -1].strip()
        else:
            return inner, nullable


def logical_type(type_name: str) -> LogicalType:
    """Map a ClickHouse type name to what tripl needs to know about it."""
    inner, _ = unwrap_type(type_name)
    base = inner.split("(", 1)[0]
    if base == "Bool":
        return LogicalType.boolean
    if base.startswith(_NUMBER_TYPES):
        return LogicalType.number
    if base.startswith("DateTime"):
        return LogicalType.datetime
    if base in ("Date", "Date32"):
        return LogicalType.date
    if base.startswith(_STRING_TYPES):
        return LogicalType.string
    if base in ("JSON", "Object", "Map"):
        return LogicalType.json
    if base == "Array":
        return LogicalType.array
    return LogicalType.other


def column_info(name: str, type_name: str) -> ColumnInfo:
    _, nullable = unwrap_type(type_name)
    return ColumnInfo(name=name, type_name=type_name, nullable=nullable, logical=logical_type(type_name))


class ClickHouseWarehouse:
    db_type = DBType.clickhouse
    dialect = "clickhouse"

    def __init__(self, config: ConnectionConfig) -> None:
        self._config = config
        self._client: Client | None = None

    def __enter__(self) -> ClickHouseWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def test_connection(self) -> str:
        client = self._connect()
        with self._errors():
            client.command("SELECT 1", settings=self._settings(client))
        return f"ClickHouse {client.server_version}"

    def list_tables(self) -> list[TableInfo]:
        client = self._connect()
        database = self._config.database_name
        sql = _COLUMNS_OF_DATABASE if database else _COLUMNS_OF_CURRENT_DATABASE
        with self._errors():
            result = client.query(sql, parameters={"db": database}, settings=self._settings(client))
        tables: dict[str, list[ColumnInfo]] = {}
        for db, table, name, type_name in result.result_rows:
            tables.setdefault(f"{db}.{table}", []).append(column_info(name, type_name))
        return [TableInfo(name=name, columns=columns) for name, columns in tables.items()]

    def describe(self, sql: str) -> list[ColumnInfo]:
        client = self._connect()
        with self._errors():
            result = client.query(f"DESCRIBE TABLE (\n{sql}\n)", settings=self._settings(client))
        return [column_info(row[0], row[1]) for row in result.result_rows]

    def query_columns(self, sql: str, *, max_rows: int) -> ColumnarResult:
        return as_columns(self.query(sql, max_rows=max_rows))

    def query(self, sql: str, *, max_rows: int, params: Sequence[Any] = ()) -> QueryResult:
        client = self._connect()
        rows: list[tuple[Any, ...]] = []
        with self._errors():
            stream = client.query_row_block_stream(
                sql, parameters=list(params) if params else None, settings=self._settings(client)
            )
            with stream:
                source = cast(StreamedResult, stream.source)
                names, types = source.column_names, source.column_types
                for block in stream:
                    rows.extend(tuple(row) for row in block)
                    if len(rows) >= max_rows:
                        break  # closing the stream drops the response; the server cancels the rest
        columns = [column_info(name, ch_type.name) for name, ch_type in zip(names, types, strict=True)]
        return QueryResult(columns=columns, rows=rows[:max_rows])

    # -- internals --
    def _connect(self) -> Client:
        if self._client is not None:
            return self._client
        config, extra = self._config, self._config.extra_params
        timeout = max(1, int(config.timeout_seconds))
        with self._errors():
            self._client = clickhouse_connect.get_client(
                host=config.host,
                port=config.port or 8123,
                username=config.username or None,
                password=config.password,
                database=config.database_name or None,
                secure=bool(extra.get("secure", False)),
                verify=bool(extra.get("verify", True)),
                connect_timeout=min(timeout, 30),
                send_receive_timeout=timeout + min(timeout, _HTTP_TIMEOUT_MARGIN_SECONDS),
                # Sessions pin state to one server and forbid concurrent use; nothing here needs them.
                autogenerate_session_id=False,
                show_clickhouse_errors="scrub",
                client_name="tripl",
                query_retries=1,
            )
        return self._client

    def _settings(self, client: Client) -> dict[str, Any]:
        """Read-only and time-bounded, as far as this user may change settings."""
        wanted: dict[str, Any] = {"max_execution_time": max(1, int(self._config.timeout_seconds))}
        current = client.server_settings.get("readonly")
        if current is None or current.value == "0":
            wanted["readonly"] = 2
        return {
            name: value
            for name, value in wanted.items()
            if (setting := client.server_settings.get(name)) is None or not setting.readonly
        }

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except WarehouseError:
            raise
        except ClickHouseError as exc:
            raise self._translate(exc) from None

    def _translate(self, exc: ClickHouseError) -> WarehouseError:
        where = f"{self._config.host}:{self._config.port}"
        transport = _transport_cause(exc)
        if isinstance(transport, NewConnectionError):
            return WarehouseUnreachable(f"Could not reach the ClickHouse server at {where}.")
        if isinstance(transport, ReadTimeoutError):
            return WarehouseTimeout(f"ClickHouse did not respond within {self._config.timeout_seconds} s.")
        if isinstance(transport, UrllibTimeoutError):
            return WarehouseUnreachable(f"Could not reach the ClickHouse server at {where} in time.")
        if transport is not None:
            return WarehouseUnreachable(f"The connection to the ClickHouse server at {where} failed.")
        code = getattr(exc, "code", None)
        if code is None and isinstance(exc, OperationalError):  # 429/503/504 after the client's retries
            return WarehouseUnreachable(f"The ClickHouse server at {where} is unavailable right now.")
        if code in _AUTH_CODES:
            user = self._config.username or "default"
            return WarehouseAuthFailed(f"ClickHouse rejected the credentials of user '{user}'.")
        if code in _TIMEOUT_CODES:
            return WarehouseTimeout(
                f"ClickHouse stopped the query after the {self._config.timeout_seconds} s time limit."
            )
        return WarehouseQueryError(f"ClickHouse rejected the query: {self._detail(str(exc))}")

    def _detail(self, text: str) -> str:
        detail = text.split("DB::Exception: ", 1)[-1] if "DB::Exception: " in text else text
        for secret in (self._config.password,):
            if secret:
                detail = detail.replace(secret, "***")
        detail = " ".join(detail.split())
        return detail if len(detail) <= _MAX_MESSAGE else detail[: _MAX_MESSAGE - 3] + "..."


def _transport_cause(exc: BaseException) -> BaseException | None:
    """The urllib3 failure underneath a client exception, if the request never got an answer."""
    seen: set[int] = set()
    current: BaseException | None = exc.__cause__ or exc.__context__
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MaxRetryError) and current.reason is not None:
            current = current.reason
            continue
        if isinstance(current, (NewConnectionError, UrllibTimeoutError)):
            return current
        if isinstance(current, HTTPError):
            return current
        current = current.__cause__ or current.__context__
    return None


if TYPE_CHECKING:

    def _implements_the_protocol(config: ConnectionConfig) -> Warehouse:
        return ClickHouseWarehouse(config)
