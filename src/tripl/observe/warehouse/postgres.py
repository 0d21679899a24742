"""PostgreSQL (14+) as a warehouse over psycopg 3: read-only transactions, bounded by time and rows."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from tripl.observe.warehouse.base import (
    ColumnarResult,
    ColumnInfo,
    ConnectionConfig,
    DBType,
    LogicalType,
    QueryResult,
    TableInfo,
    WarehouseAuthFailed,
    WarehouseError,
    WarehouseQueryError,
    WarehouseTimeout,
    WarehouseUnreachable,
    as_columns,
)

MIN_SERVER_VERSION = 140000  # date_bin() arrived in PostgreSQL 14
MAX_CONNECT_TIMEOUT_SECONDS = 30  # a black-holed host must not hold a connection test for minutes
MAX_MESSAGE_LENGTH = 1000
SSL_MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
_AUTH_STATES = frozenset({"28000", "28P01"})
_PEM_CERT = "-----BEGIN CERTIFICATE-----"
_NUMERIC_PREFIXES = (
    "smallint",
    "integer",
    "bigint",
    "int",
    "numeric",
    "decimal",
    "real",
    "double precision",
    "float",
    "money",
    "oid",
)


def logical_type(type_name: str) -> LogicalType:
    """What a PostgreSQL type name (format_type / information_schema style) means to tripl."""
    name = type_name.strip().lower()
    if name.endswith("]") or name == "array":
        return LogicalType.array
    if name in ("json", "jsonb"):
        return LogicalType.json
    if name.startswith(("character", "varchar", "text", "char", "bpchar", "uuid", "citext", "name")):
        return LogicalType.string
    if name in ("boolean", "bool"):
        return LogicalType.boolean
    if name.startswith("timestamp"):
        return LogicalType.datetime
    if name == "date":
        return LogicalType.date
    if name.startswith("interval"):
        return LogicalType.other
    if name.startswith(_NUMERIC_PREFIXES):
        return LogicalType.number
    return LogicalType.other


class PostgresWarehouse:
    """One psycopg connection; each call runs in its own READ ONLY transaction with a statement timeout.

    extra_params: `sslmode` (libpq modes), `sslrootcert` (the CA certificate's PEM text; without it
    verify-full trusts the system CAs), `search_path` (set for the session), `application_name`
    (default "tripl"). Client certificates are not supported.
    """

    db_type = DBType.postgres
    dialect = "postgres"

    def __init__(self, config: ConnectionConfig) -> None:
        self._config = config
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None

    def __enter__(self) -> PostgresWarehouse:
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
        conn = self._connection()
        self._run("SELECT 1", max_rows=1)
        version = conn.info.server_version
        return f"PostgreSQL {version // 10000}.{version % 10000}"

    def list_tables(self) -> list[TableInfo]:
        rows = self._run(
            "SELECT table_schema, table_name, column_name, data_type, udt_name, is_nullable"
            " FROM information_schema.columns"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            " AND table_schema NOT LIKE 'pg\\_toast%' AND table_schema NOT LIKE 'pg\\_temp\\_%'"
            " ORDER BY table_schema, table_name, ordinal_position",
            max_rows=1_000_000,
        ).rows
        tables: dict[str, list[ColumnInfo]] = {}
        for schema, table, column, data_type, udt_name, nullable in rows:
            if data_type == "ARRAY":
                type_name = f"{udt_name.lstrip('_')}[]"
            elif data_type == "USER-DEFINED":
                type_name = udt_name
            else:
                type_name = data_type
            tables.setdefault(f"{schema}.{table}", []).append(
                ColumnInfo(column, type_name, nullable == "YES", logical_type(type_name))
            )
        return [TableInfo(name, columns) for name, columns in tables.items()]

    def describe(self, sql: str) -> list[ColumnInfo]:
        wrapped = f"SELECT * FROM (\n{sql}\n) AS __describe LIMIT 0"  # noqa: S608 - runs read-only, no rows
        return self._run(wrapped, max_rows=0).columns

    def query_columns(self, sql: str, *, max_rows: int) -> ColumnarResult:
        return as_columns(self.query(sql, max_rows=max_rows))

    def query(self, sql: str, *, max_rows: int, params: Sequence[Any] = ()) -> QueryResult:
        return self._run(sql, max_rows=max_rows, params=params)

    # -- internals --
    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._conn is not None:
            return self._conn
        config, extra = self._config, self._config.extra_params
        kwargs: dict[str, Any] = {
            "host": config.host,
            "port": config.port,
            "dbname": config.database_name,
            "user": config.username or None,
            "password": config.password or None,
            "connect_timeout": max(2, min(config.timeout_seconds, MAX_CONNECT_TIMEOUT_SECONDS)),
            "application_name": str(extra.get("application_name") or "tripl")[:63],
        }
        sslmode = extra.get("sslmode")
        if sslmode:
            if sslmode not in SSL_MODES:
                raise WarehouseError(
                    f"unknown sslmode {sslmode!r}; use one of {', '.join(sorted(SSL_MODES))}."
                )
            kwargs["sslmode"] = sslmode
        root_cert = extra.get("sslrootcert")
        if root_cert is not None and (not isinstance(root_cert, str) or _PEM_CERT not in root_cert):
            raise WarehouseError(
                "sslrootcert must be the PEM text of the CA certificate (-----BEGIN CERTIFICATE-----)."
            )
        if not root_cert and sslmode == "verify-ca":
            raise WarehouseError("sslmode verify-ca needs sslrootcert: the PEM text of the CA certificate.")
        if not root_cert and sslmode == "verify-full":
            kwargs["sslrootcert"] = "system"  # the machine's trusted CAs, as for public managed services
        with tempfile.TemporaryDirectory(prefix="tripl-pg-") as tmp:
            if root_cert:
                # libpq reads certificates from files, and only while connecting.
                kwargs["sslrootcert"] = str(Path(tmp) / "root.crt")
                Path(kwargs["sslrootcert"]).write_text(root_cert)
            try:
                conn = psycopg.connect(**kwargs)
            except psycopg.Error as exc:
                raise self._connect_error(exc) from None
        try:
            if conn.info.server_version < MIN_SERVER_VERSION:
                version = conn.info.server_version
                raise WarehouseError(
                    f"PostgreSQL 14 or newer is required (tripl needs date_bin); this server runs "
                    f"{version // 10000}.{version % 10000}."
                )
            conn.read_only = True
            search_path = extra.get("search_path")
            with self._errors():
                if search_path:
                    conn.execute("SELECT set_config('search_path', %s, false)", [str(search_path)])
                conn.execute("SELECT set_config('TimeZone', 'UTC', false)")
                conn.commit()
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _run(self, sql: str, *, max_rows: int, params: Sequence[Any] = ()) -> QueryResult:
        conn = self._connection()
        timeout_ms = max(1, self._config.timeout_seconds) * 1000
        with self._errors(), conn.transaction():
            conn.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            # A server-side cursor computes only the rows fetched, and DECLARE accepts one query only.
            with conn.cursor(name="tripl_query") as cursor:
                cursor.execute(sql, list(params) if params else None)
                description = cursor.description or []
                rows = cursor.fetchmany(max_rows) if max_rows > 0 else []
        columns = [
            ColumnInfo(col.name, col.type_display, True, logical_type(col.type_display))
            for col in description
        ]
        return QueryResult(columns=columns, rows=[tuple(row) for row in rows])

    def _sanitise(self, text: str) -> str:
        text = " ".join(text.split())[:MAX_MESSAGE_LENGTH]
        if self._config.password:
            text = text.replace(self._config.password, "***")
        return text

    def _where(self) -> str:
        return f"{self._config.host}:{self._config.port}"

    def _connect_error(self, exc: psycopg.Error) -> WarehouseError:
        text = str(exc)
        lowered = text.lower()
        user = self._config.username or "(default user)"
        if exc.sqlstate in _AUTH_STATES or "authentication failed" in lowered or 'role "' in lowered:
            return WarehouseAuthFailed(f"authentication was rejected for user {user!r} at {self._where()}")
        if exc.sqlstate == "3D000" or ('database "' in lowered and "does not exist" in lowered):
            return WarehouseError(
                f"the database {self._config.database_name!r} does not exist at {self._where()}"
            )
        if "timeout expired" in lowered or "timed out" in lowered:
            return WarehouseTimeout(f"{self._where()} did not respond in time")
        if "ssl" in lowered:
            return WarehouseUnreachable(f"could not reach {self._where()}: {self._sanitise(text)}")
        return WarehouseUnreachable(f"could not reach {self._where()}")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except pg_errors.QueryCanceled:
            raise WarehouseTimeout(
                f"the query did not respond in time (over {self._config.timeout_seconds} s)"
            ) from None
        except psycopg.OperationalError as exc:
            if exc.sqlstate is None or exc.sqlstate.startswith("08"):
                self.close()
                raise WarehouseUnreachable(f"lost the connection to {self._where()}") from None
            raise WarehouseQueryError(f"query failed: {self._query_message(exc)}") from None
        except psycopg.Error as exc:
            raise WarehouseQueryError(f"query failed: {self._query_message(exc)}") from None

    def _query_message(self, exc: psycopg.Error) -> str:
        primary = exc.diag.message_primary if exc.diag is not None else None
        return self._sanitise(primary or str(exc) or type(exc).__name__)
