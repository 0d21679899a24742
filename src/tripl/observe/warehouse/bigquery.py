"""BigQuery through google-cloud-bigquery: GoogleSQL only, billing-capped and time-bounded.

Every job carries `maximumBytesBilled` (extra_params `maximum_bytes_billed`, default 100 GiB)
and `jobTimeoutMs`; the client waits at most `timeout_seconds` and cancels the job past that.
`describe` is a dry run (free); `list_tables` reads INFORMATION_SCHEMA.COLUMNS, one query per
dataset, rather than one API call per table.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import decimal
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY, DEFAULT_RETRY
from google.oauth2 import service_account

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
from tripl.observe.warehouse.guard import check_host

DEFAULT_MAXIMUM_BYTES_BILLED = 100 * 1024**3
_MAX_MESSAGE = 500
# Where the data source keeps the service-account key JSON (secret extra params).
_SERVICE_ACCOUNT_KEYS = ("credentials_json", "service_account_json")
_AUTH_REASONS = {"accessDenied", "authError", "forbidden", "unauthorized"}
_TIMEOUT_REASONS = {"timeout", "jobTimeout", "stopped"}
# The REST API's legacy names, shown to users as GoogleSQL names.
_STANDARD_NAMES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}
_NUMBER_TYPES = {"INT64", "INT", "SMALLINT", "INTEGER", "BIGINT", "TINYINT", "BYTEINT", "FLOAT64", "NUMERIC"}
_NUMBER_TYPES |= {"BIGNUMERIC", "DECIMAL", "BIGDECIMAL"}
_COLUMNS_SQL = (
    "SELECT table_name, column_name, data_type, is_nullable"
    " FROM `{project}.{dataset}.INFORMATION_SCHEMA.COLUMNS` ORDER BY table_name, ordinal_position"
)


def logical_type(type_name: str) -> LogicalType:
    """Map a GoogleSQL type name (as INFORMATION_SCHEMA writes it) to tripl's logical type."""
    name = type_name.strip().upper()
    if name.startswith("ARRAY"):
        return LogicalType.array
    base = name.split("<", 1)[0].split("(", 1)[0].strip()
    if base in _NUMBER_TYPES:
        return LogicalType.number
    if base == "STRING":
        return LogicalType.string
    if base == "BOOL":
        return LogicalType.boolean
    if base in ("TIMESTAMP", "DATETIME"):
        return LogicalType.datetime
    if base == "DATE":
        return LogicalType.date
    if base == "JSON":
        return LogicalType.json
    return LogicalType.other


def field_type_name(schema_field: bigquery.SchemaField) -> str:
    if schema_field.field_type.upper() in ("RECORD", "STRUCT"):
        inner = ", ".join(f"{f.name} {field_type_name(f)}" for f in schema_field.fields)
        name = f"STRUCT<{inner}>"
    else:
        name = _STANDARD_NAMES.get(schema_field.field_type.upper(), schema_field.field_type.upper())
    return f"ARRAY<{name}>" if schema_field.mode == "REPEATED" else name


def column_from_field(schema_field: bigquery.SchemaField) -> ColumnInfo:
    type_name = field_type_name(schema_field)
    return ColumnInfo(
        name=schema_field.name,
        type_name=type_name,
        nullable=schema_field.mode == "NULLABLE",
        logical=logical_type(type_name),
    )


def query_parameter(value: Any) -> bigquery.ScalarQueryParameter:
    """A positional parameter typed from its Python value."""
    if isinstance(value, bool):
        kind = "BOOL"
    elif isinstance(value, int):
        kind = "INT64"
    elif isinstance(value, float):
        kind = "FLOAT64"
    elif isinstance(value, decimal.Decimal):
        kind = "NUMERIC"
    elif isinstance(value, dt.datetime):
        kind = "TIMESTAMP" if value.tzinfo is not None else "DATETIME"
    elif isinstance(value, dt.date):
        kind = "DATE"
    else:
        kind = "STRING"
    return bigquery.ScalarQueryParameter(None, kind, value)


class BigQueryWarehouse:
    db_type = DBType.bigquery
    dialect = "bigquery"

    def __init__(self, config: ConnectionConfig) -> None:
        self._config = config
        extra = config.extra_params
        self._project = str(extra.get("project_id") or config.database_name)
        self._location: str | None = extra.get("location") or None
        self._cap = int(extra.get("maximum_bytes_billed") or DEFAULT_MAXIMUM_BYTES_BILLED)
        allowlist = extra.get("dataset") or extra.get("datasets") or []
        if isinstance(allowlist, str):
            allowlist = [name.strip() for name in allowlist.split(",")]
        self._datasets: list[str] = [str(name) for name in allowlist if str(name).strip()]
        self._timeout = max(1, int(config.timeout_seconds))
        self._client: bigquery.Client | None = None

    def __enter__(self) -> BigQueryWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def test_connection(self) -> str:
        self._run("SELECT 1", max_rows=1)
        where = f" ({self._location})" if self._location else ""
        return f"BigQuery project {self._project}{where}"

    def list_tables(self) -> list[TableInfo]:
        datasets = self._datasets or self._list_datasets()
        tables: list[TableInfo] = []
        for dataset in datasets:
            sql = _COLUMNS_SQL.format(project=self._project, dataset=dataset.replace("`", ""))
            columns: dict[str, list[ColumnInfo]] = {}
            for table, column, type_name, nullable in self._run(sql, max_rows=1_000_000)[1]:
                info = ColumnInfo(column, type_name, nullable == "YES", logical_type(type_name))
                columns.setdefault(f"{dataset}.{table}", []).append(info)
            tables.extend(TableInfo(name=name, columns=cols) for name, cols in columns.items())
        return tables

    def describe(self, sql: str) -> list[ColumnInfo]:
        client = self._connect()
        config = self._job_config(dry_run=True)
        with self._errors():
            job = client.query(sql, job_config=config, location=self._location, **self._call_limits())
            schema = job.schema or []
        return [column_from_field(f) for f in schema]

    def query_columns(self, sql: str, *, max_rows: int) -> ColumnarResult:
        return as_columns(self.query(sql, max_rows=max_rows))

    def query(self, sql: str, *, max_rows: int, params: Sequence[Any] = ()) -> QueryResult:
        columns, rows = self._run(sql, max_rows=max_rows, params=params)
        return QueryResult(columns=columns, rows=rows)

    # -- internals --
    def _run(
        self, sql: str, *, max_rows: int, params: Sequence[Any] = ()
    ) -> tuple[list[ColumnInfo], list[tuple[Any, ...]]]:
        client = self._connect()
        config = self._job_config(query_parameters=[query_parameter(v) for v in params])
        with self._errors():
            iterator = client.query_and_wait(
                sql,
                job_config=config,
                location=self._location,
                api_timeout=self._timeout,
                wait_timeout=self._timeout,
                max_results=max_rows,
                page_size=min(max(max_rows, 1), 10_000),
                retry=DEFAULT_RETRY.with_timeout(self._timeout),
                job_retry=DEFAULT_JOB_RETRY.with_timeout(self._timeout),
            )
            rows = [tuple(row.values()) for row in iterator]
            columns = [column_from_field(f) for f in iterator.schema]
        return columns, rows[:max_rows]

    def _list_datasets(self) -> list[str]:
        client = self._connect()
        with self._errors():
            found = client.list_datasets(self._project, **self._call_limits())
            return [item.dataset_id for item in found]

    def _job_config(
        self, *, dry_run: bool = False, query_parameters: list[Any] | None = None
    ) -> bigquery.QueryJobConfig:
        config = bigquery.QueryJobConfig(
            use_legacy_sql=False,
            maximum_bytes_billed=self._cap,
            dry_run=dry_run,
            use_query_cache=True,
            query_parameters=query_parameters or [],
        )
        config.job_timeout_ms = self._timeout * 1000
        default_dataset = self._config.extra_params.get("default_dataset")
        if default_dataset:  # lets queries name tables without their dataset
            config.default_dataset = f"{self._project}.{default_dataset}"
        return config

    def _call_limits(self) -> dict[str, Any]:
        return {"timeout": self._timeout, "retry": DEFAULT_RETRY.with_timeout(self._timeout)}

    def _connect(self) -> bigquery.Client:
        if self._client is not None:
            return self._client
        if not self._project:
            raise WarehouseQueryError(
                "BigQuery needs a project: set extra_params.project_id or the database name."
            )
        endpoint = self._config.extra_params.get("api_endpoint")
        if endpoint:
            _check_endpoint(str(endpoint))
        options = {"api_endpoint": str(endpoint)} if endpoint else None
        with self._errors():
            self._client = bigquery.Client(
                project=self._project,
                credentials=self._credentials(bool(endpoint)),
                location=self._location,
                client_options=options,
            )
        return self._client

    def _service_account_key(self) -> Any:
        secrets = self._config.secret_params
        return next((secrets[k] for k in _SERVICE_ACCOUNT_KEYS if secrets.get(k)), None)

    def _credentials(self, custom_endpoint: bool) -> Credentials | None:
        raw = self._service_account_key()
        if raw:
            try:
                info = json.loads(raw) if isinstance(raw, str) else dict(raw)
                creds: Credentials = service_account.Credentials.from_service_account_info(
                    info, scopes=["https://www.googleapis.com/auth/bigquery"]
                )
            except (ValueError, KeyError, TypeError):
                raise WarehouseAuthFailed(
                    "The BigQuery credentials are not a valid service-account key (JSON)."
                ) from None
            return creds
        if custom_endpoint:
            return AnonymousCredentials()
        return None  # application default credentials of the host

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except WarehouseError:
            raise
        except api_exceptions.GoogleAPICallError as exc:
            raise self._from_api_error(exc) from None
        except (concurrent.futures.TimeoutError, requests.Timeout, api_exceptions.RetryError) as exc:
            cause: BaseException | None = exc
            while isinstance(cause, api_exceptions.RetryError):
                cause = cause.cause  # retries gave up: judge by the last failure
            if isinstance(cause, requests.ConnectionError) and not isinstance(cause, requests.Timeout):
                raise self._unreachable() from None
            if isinstance(cause, api_exceptions.GoogleAPICallError):
                raise self._from_api_error(cause) from None
            raise WarehouseTimeout(f"BigQuery did not respond within {self._timeout} s.") from None
        except requests.ConnectionError:
            raise self._unreachable() from None
        except auth_exceptions.DefaultCredentialsError:
            raise WarehouseAuthFailed(
                "No BigQuery credentials configured: add a service-account key to the data source."
            ) from None
        except auth_exceptions.GoogleAuthError:
            raise WarehouseAuthFailed("BigQuery rejected the service-account credentials.") from None

    def _unreachable(self) -> WarehouseUnreachable:
        return WarehouseUnreachable(f"Could not reach the BigQuery API for project {self._project}.")

    def _from_api_error(self, exc: api_exceptions.GoogleAPICallError) -> WarehouseError:
        first = exc.errors[0] if exc.errors and isinstance(exc.errors[0], dict) else {}
        reason = str(first.get("reason", ""))
        # exc.message carries the request URL; the API's own message does not.
        detail = self._scrub(str(first.get("message") or "request failed"))
        status = exc.code or 0
        if status == 401 or reason in _AUTH_REASONS:
            return WarehouseAuthFailed(f"BigQuery rejected the credentials: {detail}")
        if reason in _TIMEOUT_REASONS:
            return WarehouseTimeout(f"BigQuery stopped the query after the {self._timeout} s time limit.")
        if status >= 500:
            return WarehouseUnreachable(f"BigQuery is unavailable right now: {detail}")
        return WarehouseQueryError(f"BigQuery rejected the query: {detail}")

    def _scrub(self, text: str) -> str:
        raw = self._service_account_key()
        secrets: list[str] = [self._config.password] if self._config.password else []
        if raw:
            info = raw if isinstance(raw, dict) else _loads_or_empty(str(raw))
            secrets += [str(info.get(k)) for k in ("private_key", "private_key_id") if info.get(k)]
            secrets.append(str(raw))
        for secret in secrets:
            text = text.replace(secret, "***")
        text = " ".join(text.split())
        return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _check_endpoint(endpoint: str) -> None:
    """An API endpoint override (emulators, tests) is a URL the server will call: guard it like a host."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WarehouseQueryError("extra_params.api_endpoint must be an http(s) URL.")
    check_host(parts.hostname)


def _loads_or_empty(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


if TYPE_CHECKING:

    def _implements_the_protocol(config: ConnectionConfig) -> Warehouse:
        return BigQueryWarehouse(config)
