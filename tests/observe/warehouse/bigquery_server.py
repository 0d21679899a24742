"""A loopback server speaking the BigQuery REST API v2 the way google-cloud-bigquery uses it.

Datasets are DuckDB schemas; incoming GoogleSQL is transpiled by sqlglot (bigquery -> duckdb)
and run on DuckDB. Served: jobs.query, jobs.insert (incl. dry runs), jobs.get, jobs.cancel,
jobs.getQueryResults (paged), datasets.list, `<dataset>.INFORMATION_SCHEMA.COLUMNS`, positional
query parameters, an OAuth2 token endpoint for service-account JWTs (signature verified), and
the billing rule BigQuery applies first: at least 10 MiB billed per referenced table, so a
`maximumBytesBilled` below that fails the job with `bytesBilledLimitExceeded`. Every job runs in
a thread; `job_latency_seconds` makes it slow, and `jobTimeoutMs` is enforced like BigQuery does.
Response shapes (schema fields with BigQuery types, rows as {"f": [{"v": ...}]}, errors) are
the real ones.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import sqlglot
from google.auth import jwt
from sqlglot import exp

MIN_BYTES_BILLED_PER_TABLE = 10 * 1024 * 1024
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_HIDDEN_SCHEMAS = "('main', '_bq_meta', 'information_schema', 'pg_catalog')"
_INFORMATION_SCHEMA_COLUMNS = "INFORMATION_SCHEMA.COLUMNS"
_INTEGERS = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
}
_SCALARS = {
    "VARCHAR": ("STRING", "STRING"),
    "UUID": ("STRING", "STRING"),
    "DOUBLE": ("FLOAT", "FLOAT64"),
    "FLOAT": ("FLOAT", "FLOAT64"),
    "BOOLEAN": ("BOOLEAN", "BOOL"),
    "TIMESTAMP WITH TIME ZONE": ("TIMESTAMP", "TIMESTAMP"),
    "TIMESTAMP": ("DATETIME", "DATETIME"),
    "DATE": ("DATE", "DATE"),
    "TIME": ("TIME", "TIME"),
    "JSON": ("JSON", "JSON"),
    "BLOB": ("BYTES", "BYTES"),
    "INTERVAL": ("INTERVAL", "INTERVAL"),
}


class BigQueryAPIError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason

    def body(self) -> dict[str, Any]:
        status_names = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
        }
        return {
            "error": {
                "code": self.status,
                "message": str(self),
                "errors": [{"message": str(self), "domain": "global", "reason": self.reason}],
                "status": status_names.get(self.status, "INTERNAL"),
            }
        }


def rest_field(name: str, duck_type: duckdb.DuckDBPyType) -> dict[str, Any]:
    """A schema field as the REST API reports it (legacy type names, RECORD, mode)."""
    if duck_type.id == "list":
        inner = rest_field(name, duck_type.children[0][1])
        return {**inner, "mode": "REPEATED"}
    if duck_type.id == "struct":
        fields = [rest_field(child, child_type) for child, child_type in duck_type.children]
        return {"name": name, "type": "RECORD", "mode": "NULLABLE", "fields": fields}
    return {"name": name, "type": _scalar(duck_type)[0], "mode": "NULLABLE"}


def sql_type(duck_type: duckdb.DuckDBPyType) -> str:
    """The GoogleSQL type name INFORMATION_SCHEMA reports."""
    if duck_type.id == "list":
        return f"ARRAY<{sql_type(duck_type.children[0][1])}>"
    if duck_type.id == "struct":
        return "STRUCT<" + ", ".join(f"{n} {sql_type(t)}" for n, t in duck_type.children) + ">"
    return _scalar(duck_type)[1]


def _scalar(duck_type: duckdb.DuckDBPyType) -> tuple[str, str]:
    name = str(duck_type).upper()
    if name in _INTEGERS:
        return "INTEGER", "INT64"
    if name.startswith("DECIMAL"):
        precision = int(re.findall(r"\d+", name)[0]) if re.findall(r"\d+", name) else 18
        return ("NUMERIC", "NUMERIC") if precision <= 38 else ("BIGNUMERIC", "BIGNUMERIC")
    return _SCALARS.get(name, ("STRING", "STRING"))


def encode_value(value: Any, int64_timestamps: bool) -> Any:
    """A cell in the REST encoding: scalars as strings, arrays as [{"v"}], records as {"f"}."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else ("Infinity" if value == math.inf else repr(value))
    if isinstance(value, int | decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # DATETIME
            return value.isoformat()
        micros = (value - _EPOCH) // dt.timedelta(microseconds=1)
        return str(micros) if int64_timestamps else repr(micros / 1e6)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list):
        return [{"v": encode_value(item, int64_timestamps)} for item in value]
    if isinstance(value, dict):
        return {"f": [{"v": encode_value(item, int64_timestamps)} for item in value.values()]}
    return str(value)


@dataclass
class Job:
    project: str
    job_id: str
    location: str
    query: str
    config: dict[str, Any]
    created_ms: int
    state: str = "RUNNING"
    fields: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    error: BigQueryAPIError | None = None
    bytes_billed: int = 0
    ended_ms: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)

    def reference(self) -> dict[str, str]:
        return {"projectId": self.project, "jobId": self.job_id, "location": self.location}

    def resource(self) -> dict[str, Any]:
        status: dict[str, Any] = {"state": self.state}
        if self.error is not None:
            status["errorResult"] = self.error.body()["error"]["errors"][0]
            status["errors"] = self.error.body()["error"]["errors"]
        query_config = {**self.config.get("query", {}), "query": self.query}
        query_config.setdefault(
            "destinationTable",
            {"projectId": self.project, "datasetId": "_anon", "tableId": f"anon{self.job_id}"},
        )
        stats: dict[str, Any] = {"totalBytesProcessed": str(self.bytes_billed)}
        if self.state == "DONE" and self.error is None:
            stats.update(totalBytesBilled=str(self.bytes_billed), statementType="SELECT")
            if query_config.get("dryRun") or self.config.get("dryRun"):
                stats["schema"] = {"fields": self.fields}
        statistics: dict[str, Any] = {"creationTime": str(self.created_ms), "query": stats}
        if self.state == "DONE":
            statistics.update(startTime=str(self.created_ms), endTime=str(self.ended_ms))
        return {
            "kind": "bigquery#job",
            "id": f"{self.project}:{self.location}.{self.job_id}",
            "jobReference": self.reference(),
            "configuration": {**self.config, "query": query_config, "jobType": "QUERY"},
            "status": status,
            "statistics": statistics,
        }


@dataclass
class CapturedRequest:
    method: str
    path: str
    params: dict[str, list[str]]
    body: dict[str, Any]
    authorization: str


class BigQueryServer:
    def __init__(self, project: str = "tripl-test", location: str = "US") -> None:
        self.project = project
        self.location = location
        self.db = duckdb.connect()
        self.db.execute("SET TimeZone = 'UTC'")
        self.db.execute("CREATE SCHEMA _bq_meta")
        self.requests: list[CapturedRequest] = []
        self.jobs: dict[str, Job] = {}
        self.job_latency_seconds = 0.0
        # Service-account emails -> public key PEM; when set, requests need a token this server issued.
        self.service_accounts: dict[str, str] = {}
        self.issued_tokens: set[str] = set()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- setup and lifecycle --
    def execute(self, sql: str) -> None:
        with self._lock:
            self.db.execute(sql)

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> BigQueryServer:
        handler = type("Handler", (_Handler,), {"backend": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        self.db.close()

    # -- auth --
    def issue_token(self, form: dict[str, list[str]]) -> dict[str, Any]:
        assertion = form.get("assertion", [""])[0]
        try:
            claims = jwt.decode(assertion, verify=False)
            public_key = self.service_accounts[claims["iss"]]
            # google-auth signs for Google's token audience whatever token_uri it posts to.
            jwt.decode(assertion, certs=public_key, audience="https://oauth2.googleapis.com/token")
        except Exception:
            raise BigQueryAPIError(400, "invalid_grant", "Invalid JWT Signature.") from None
        token = "ya29." + uuid.uuid4().hex
        self.issued_tokens.add(token)
        return {"access_token": token, "token_type": "Bearer", "expires_in": 3600}

    def check_auth(self, authorization: str) -> None:
        if not self.service_accounts:
            return  # emulator mode: anonymous requests allowed
        token = authorization.removeprefix("Bearer ")
        if token not in self.issued_tokens:
            raise BigQueryAPIError(
                401,
                "unauthorized",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
            )

    # -- jobs --
    def start_job(self, project: str, query: str, config: dict[str, Any], location: str | None) -> Job:
        job = Job(
            project=project,
            job_id=config.pop("_job_id", None) or "job_" + uuid.uuid4().hex,
            location=location or self.location,
            query=query,
            config=config,
            created_ms=int(time.time() * 1000),
        )
        self.jobs[job.job_id] = job
        threading.Thread(target=self._run, args=(job,), daemon=True).start()
        return job

    def _run(self, job: Job) -> None:
        query_config = job.config.get("query", {})
        timeout_ms = int(job.config.get("jobTimeoutMs") or query_config.get("jobTimeoutMs") or 0)
        try:
            if self.job_latency_seconds:
                limit = timeout_ms / 1000 if timeout_ms else None
                waited = job.cancelled.wait(min(self.job_latency_seconds, limit or self.job_latency_seconds))
                if waited:
                    raise BigQueryAPIError(
                        400, "stopped", "Job execution was cancelled: User requested cancellation"
                    )
                if limit is not None and limit < self.job_latency_seconds:
                    raise BigQueryAPIError(
                        400, "timeout", f"Job execution was cancelled: Job timed out after {limit:g} sec"
                    )
            self._execute(job, query_config)
        except BigQueryAPIError as exc:
            job.error = exc
        finally:
            job.state = "DONE"
            job.ended_ms = int(time.time() * 1000)
            job.done.set()

    def _execute(self, job: Job, query_config: dict[str, Any]) -> None:
        if query_config.get("useLegacySql", True) is not False:
            raise BigQueryAPIError(
                400, "invalidQuery", "This server only runs GoogleSQL (useLegacySql=false)"
            )
        default_dataset = query_config.get("defaultDataset", {}).get("datasetId")
        duck_sql, tables = self._transpile(job.query, default_dataset)
        job.bytes_billed = MIN_BYTES_BILLED_PER_TABLE * tables
        cap = query_config.get("maximumBytesBilled")
        if cap is not None and int(cap) < job.bytes_billed:
            raise BigQueryAPIError(
                400,
                "bytesBilledLimitExceeded",
                f"Query exceeded limit for bytes billed: {cap}. {job.bytes_billed} or higher required.",
            )
        params = [_parameter_value(p) for p in query_config.get("queryParameters", [])]
        with self._lock:
            try:
                cursor = self.db.cursor()
                relation = cursor.sql(duck_sql, params=params or None)
                if relation is None:
                    raise BigQueryAPIError(400, "invalidQuery", "Only queries returning rows are served here")
                job.fields = [rest_field(n, t) for n, t in zip(relation.columns, relation.types, strict=True)]
                if not query_config.get("dryRun") and not job.config.get("dryRun"):
                    job.rows = relation.fetchall()
            except duckdb.CatalogException as exc:
                raise BigQueryAPIError(404, "notFound", f"Not found: {_first_line(exc)}") from None
            except duckdb.Error as exc:
                raise BigQueryAPIError(400, "invalidQuery", _first_line(exc)) from None

    def _transpile(self, query: str, default_dataset: str | None = None) -> tuple[str, int]:
        try:
            statements = sqlglot.parse(query, read="bigquery")
        except sqlglot.errors.ParseError as exc:
            raise BigQueryAPIError(400, "invalidQuery", f"Syntax error: {_first_line(exc)}") from None
        if len(statements) != 1 or statements[0] is None:
            raise BigQueryAPIError(400, "invalidQuery", "Expected exactly one statement")
        tree = statements[0]
        ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        tables = 0
        for table in list(tree.find_all(exp.Table)):
            if not table.db and table.name in ctes:
                continue
            if not table.db and default_dataset:
                table.set("db", exp.to_identifier(default_dataset))
            if not table.db:
                raise BigQueryAPIError(
                    400,
                    "invalidQuery",
                    f'Table "{table.name}" must be qualified with a dataset (e.g. dataset.table).',
                )
            tables += 1
            if table.name.upper() == _INFORMATION_SCHEMA_COLUMNS:
                self._refresh_columns()
                dataset = exp.Literal.string(table.db)
                inner = (
                    exp.select("*").from_("_bq_meta.columns").where(exp.column("table_schema").eq(dataset))
                )
                table.replace(inner.subquery(table.alias or "columns"))
            else:
                table.set("catalog", None)
        return tree.sql(dialect="duckdb"), tables

    def _refresh_columns(self) -> None:
        with self._lock:
            found = self.db.execute(
                "SELECT table_schema, table_name, column_name, ordinal_position, is_nullable, data_type"
                " FROM information_schema.columns"
                " WHERE table_schema NOT IN " + _HIDDEN_SCHEMAS
            ).fetchall()
            rows = [
                (
                    self.project,
                    schema,
                    table,
                    column,
                    position,
                    nullable,
                    sql_type(self.db.sql(f"SELECT NULL::{t}").types[0]),
                )
                for schema, table, column, position, nullable, t in found
            ]
            self.db.execute(
                "CREATE OR REPLACE TABLE _bq_meta.columns (table_catalog VARCHAR, table_schema VARCHAR,"
                " table_name VARCHAR, column_name VARCHAR, ordinal_position BIGINT, is_nullable VARCHAR,"
                " data_type VARCHAR)"
            )
            if rows:
                self.db.executemany("INSERT INTO _bq_meta.columns VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def wait(self, job: Job, timeout_ms: int | None) -> None:
        job.done.wait(10.0 if timeout_ms is None else timeout_ms / 1000)

    def results(self, job: Job, *, start: int, max_results: int | None, int64: bool) -> dict[str, Any]:
        """The body shared by jobs.query and jobs.getQueryResults."""
        body: dict[str, Any] = {"jobReference": job.reference(), "jobComplete": job.state == "DONE"}
        if job.state != "DONE":
            return body
        if job.error is not None:
            raise job.error
        end = len(job.rows) if max_results is None else min(len(job.rows), start + max_results)
        body.update(
            schema={"fields": job.fields},
            totalRows=str(len(job.rows)),
            totalBytesProcessed=str(job.bytes_billed),
            cacheHit=False,
            rows=[{"f": [{"v": encode_value(v, int64)} for v in row]} for row in job.rows[start:end]],
        )
        if end < len(job.rows):
            body["pageToken"] = str(end)
        return body


def _parameter_value(parameter: dict[str, Any]) -> Any:
    kind = parameter["parameterType"]["type"]
    value = parameter.get("parameterValue", {}).get("value")
    if value is None:
        return None
    if kind in ("INT64", "INTEGER"):
        return int(value)
    if kind in ("FLOAT64", "FLOAT"):
        return float(value)
    if kind in ("BOOL", "BOOLEAN"):
        return value == "true"
    if kind in ("NUMERIC", "BIGNUMERIC"):
        return decimal.Decimal(value)
    if kind == "TIMESTAMP":
        return dt.datetime.fromisoformat(value.replace(" ", "T"))
    if kind == "DATE":
        return dt.date.fromisoformat(value)
    return value


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


_ROUTES = [
    ("POST", re.compile(r"^/token$"), "token"),
    ("POST", re.compile(r"^/bigquery/v2/projects/([^/]+)/queries$"), "jobs_query"),
    ("GET", re.compile(r"^/bigquery/v2/projects/([^/]+)/queries/([^/]+)$"), "get_query_results"),
    ("POST", re.compile(r"^/bigquery/v2/projects/([^/]+)/jobs$"), "jobs_insert"),
    ("GET", re.compile(r"^/bigquery/v2/projects/([^/]+)/jobs/([^/]+)$"), "jobs_get"),
    ("POST", re.compile(r"^/bigquery/v2/projects/([^/]+)/jobs/([^/]+)/cancel$"), "jobs_cancel"),
    ("GET", re.compile(r"^/bigquery/v2/projects/([^/]+)/datasets$"), "datasets_list"),
]


class _Handler(BaseHTTPRequestHandler):
    backend: BigQueryServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        params = parse_qs(url.query)
        authorization = self.headers.get("Authorization", "")
        is_form = self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
        body: dict[str, Any] = {} if not raw or is_form else json.loads(raw)
        self.backend.requests.append(CapturedRequest(method, url.path, params, body, authorization))
        try:
            for route_method, pattern, name in _ROUTES:
                found = pattern.match(url.path)
                if found and route_method == method:
                    if name == "token":
                        self._send(200, self.backend.issue_token(parse_qs(raw.decode())))
                        return
                    self.backend.check_auth(authorization)
                    self._send(200, getattr(self, name)(*found.groups(), params=params, body=body))
                    return
            raise BigQueryAPIError(404, "notFound", f"Not found: {method} {url.path}")
        except BigQueryAPIError as exc:
            if exc.reason == "invalid_grant":
                self._send(exc.status, {"error": exc.reason, "error_description": str(exc)})
            else:
                self._send(exc.status, exc.body())

    # -- endpoints --
    def jobs_query(
        self, project: str, *, params: dict[str, list[str]], body: dict[str, Any]
    ) -> dict[str, Any]:
        query_config = {
            k: body[k]
            for k in (
                "useLegacySql",
                "defaultDataset",
                "maximumBytesBilled",
                "queryParameters",
                "parameterMode",
                "dryRun",
                "jobTimeoutMs",
            )
            if k in body
        }
        job = self.backend.start_job(
            project, body.get("query", ""), {"query": query_config}, body.get("location")
        )
        self.backend.wait(job, body.get("timeoutMs"))
        int64 = bool(body.get("formatOptions", {}).get("useInt64Timestamp"))
        max_results = body.get("maxResults")
        return {
            "kind": "bigquery#queryResponse",
            **self.backend.results(job, start=0, max_results=max_results, int64=int64),
        }

    def get_query_results(
        self, project: str, job_id: str, *, params: dict[str, list[str]], body: dict[str, Any]
    ) -> dict[str, Any]:
        job = self._job(job_id)
        first = {k: v[0] for k, v in params.items()}
        self.backend.wait(job, int(first["timeoutMs"]) if "timeoutMs" in first else None)
        start = int(first.get("pageToken") or first.get("startIndex") or 0)
        max_results = int(first["maxResults"]) if "maxResults" in first else None
        int64 = first.get("formatOptions.useInt64Timestamp", "").lower() == "true"
        return {
            "kind": "bigquery#getQueryResultsResponse",
            **self.backend.results(job, start=start, max_results=max_results, int64=int64),
        }

    def jobs_insert(
        self, project: str, *, params: dict[str, list[str]], body: dict[str, Any]
    ) -> dict[str, Any]:
        config = dict(body.get("configuration", {}))
        query = config.get("query", {}).get("query", "")
        config["_job_id"] = body.get("jobReference", {}).get("jobId")
        location = body.get("jobReference", {}).get("location")
        job = self.backend.start_job(project, query, config, location)
        if config.get("dryRun"):
            job.done.wait()
            if job.error is not None:
                raise job.error
        return job.resource()

    def jobs_get(
        self, project: str, job_id: str, *, params: dict[str, list[str]], body: dict[str, Any]
    ) -> dict[str, Any]:
        return self._job(job_id).resource()

    def jobs_cancel(
        self, project: str, job_id: str, *, params: dict[str, list[str]], body: dict[str, Any]
    ) -> dict[str, Any]:
        job = self._job(job_id)
        job.cancelled.set()
        return {"kind": "bigquery#jobCancelResponse", "job": job.resource()}

    def datasets_list(
        self, project: str, *, params: dict[str, list[str]], body: dict[str, Any]
    ) -> dict[str, Any]:
        with self.backend._lock:
            names = [
                row[0]
                for row in self.backend.db.execute(
                    "SELECT schema_name FROM information_schema.schemata"
                    " WHERE catalog_name = current_database() AND schema_name NOT IN "
                    + _HIDDEN_SCHEMAS
                    + " ORDER BY schema_name"
                ).fetchall()
            ]
        datasets = [
            {
                "kind": "bigquery#dataset",
                "id": f"{project}:{name}",
                "datasetReference": {"projectId": project, "datasetId": name},
                "location": self.backend.location,
            }
            for name in names
        ]
        return {"kind": "bigquery#datasetList", "datasets": datasets}

    def _job(self, job_id: str) -> Job:
        job = self.backend.jobs.get(job_id)
        if job is None:
            raise BigQueryAPIError(404, "notFound", f"Not found: Job {self.backend.project}:{job_id}")
        return job

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
