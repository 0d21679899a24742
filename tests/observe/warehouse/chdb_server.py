"""A loopback server speaking ClickHouse's HTTP interface, executing every query on chdb.

chdb is the ClickHouse engine in-process, so SQL semantics, output formats (Native bytes
included), settings, limits and error codes are ClickHouse's own. This module only adds the
HTTP layer a real server has: authentication, URL settings, the `database` parameter, query
parameters (`param_*`), output format negotiation, gzip response compression, and the response
and error headers clickhouse-connect reads. Not served: data inserts in the request body,
multipart forms, sessions' temporary state, and the `client_protocol_version` block-info
framing (clickhouse-connect probes for it and falls back to plain Native when it is absent).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from chdb import session as chs

# Request parameters the HTTP interface consumes itself; everything else is a query setting.
HTTP_PARAMETERS = frozenset(
    {
        "query",
        "database",
        "default_format",
        "user",
        "password",
        "quota_key",
        "query_id",
        "session_id",
        "session_timeout",
        "session_check",
        "close_session",
        "wait_end_of_query",
        "buffer_size",
        "compress",
        "decompress",
        "client_protocol_version",
        "role",
        "stacktrace",
    }
)

# ClickHouse's mapping of exception codes to HTTP statuses (HTTPHandler), for the codes a
# read-only client meets.
_STATUS_BY_CODE = {
    194: 401,  # REQUIRED_PASSWORD
    192: 403,  # UNKNOWN_USER
    193: 403,  # WRONG_PASSWORD
    516: 403,  # AUTHENTICATION_FAILED
    164: 403,  # READONLY
    497: 403,  # ACCESS_DENIED
    36: 400,  # BAD_ARGUMENTS
    27: 400,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
    62: 400,  # SYNTAX_ERROR
    47: 400,  # UNKNOWN_IDENTIFIER
    43: 400,  # ILLEGAL_TYPE_OF_ARGUMENT
    42: 400,  # NUMBER_OF_ARGUMENTS_DOESNT_MATCH
    115: 400,  # UNKNOWN_SETTING
    456: 400,  # UNKNOWN_QUERY_PARAMETER
    60: 404,  # UNKNOWN_TABLE
    46: 404,  # UNKNOWN_FUNCTION
    81: 404,  # UNKNOWN_DATABASE
    48: 501,  # NOT_IMPLEMENTED
    159: 408,  # TIMEOUT_EXCEEDED
}

_CONTENT_TYPES = {
    "TabSeparated": "text/tab-separated-values; charset=UTF-8",
    "TSV": "text/tab-separated-values; charset=UTF-8",
    "JSON": "application/json; charset=UTF-8",
    "JSONCompact": "application/json; charset=UTF-8",
    "JSONEachRow": "application/x-ndjson; charset=UTF-8",
    "CSV": "text/csv; charset=UTF-8; header=absent",
}

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_FORMAT_CLAUSE = re.compile(r"\nFORMAT (\w+)")
_CODE = re.compile(r"Code: (\d+)\.")
_NAME = re.compile(r"\(([A-Z_]+)\)")


class ClickHouseHTTPError(Exception):
    def __init__(self, code: int, message: str, name: str) -> None:
        super().__init__(message)
        self.code = code
        self.name = name


@dataclass
class CapturedRequest:
    method: str
    params: dict[str, str]
    query: str
    headers: dict[str, str]


@dataclass
class ChdbClickHouseServer:
    """Owns one persistent chdb session (a temp dir) and the HTTP server in front of it."""

    data_dir: str
    users: dict[str, str] = field(default_factory=lambda: {"default": ""})
    display_name: str = "chdb-loopback"
    requests: list[CapturedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session = chs.Session(self.data_dir)
        self.version = self.session.query("SELECT version()", "TabSeparated").bytes().decode().strip()
        compression = "SELECT value FROM system.settings WHERE name = 'enable_http_compression'"
        self.compression_default = self.session.query(compression, "TabSeparated").bytes().decode().strip()
        # chdb runs one statement at a time per session; `USE <database>` plus the query must pair up.
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- test setup helpers (direct engine access, not over HTTP) --
    def execute(self, sql: str) -> str:
        with self._lock:
            return str(self.session.query(sql, "TabSeparated").bytes().decode())

    # -- lifecycle --
    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    def start(self) -> ChdbClickHouseServer:
        handler = type("Handler", (_Handler,), {"backend": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        self.session.close()

    # -- the HTTP interface's semantics --
    def authenticate(self, headers: Mapping[str, str], params: Mapping[str, str]) -> str:
        user, password = "default", ""
        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        elif "X-ClickHouse-User" in headers:
            user, password = headers["X-ClickHouse-User"], headers.get("X-ClickHouse-Key", "")
        elif "user" in params:
            user, password = params["user"], params.get("password", "")
        if self.users.get(user) != password:
            raise ClickHouseHTTPError(
                516,
                f"{user}: Authentication failed: password is incorrect, or there is no user with such name.",
                "AUTHENTICATION_FAILED",
            )
        return user

    def run(self, method: str, params: Mapping[str, str], query: str) -> tuple[bytes, str, dict[str, Any]]:
        """Execute one statement; return (body, output format, summary)."""
        settings = {k: v for k, v in params.items() if _is_setting(k)}
        if method == "GET":
            settings.setdefault("readonly", "2")  # ClickHouse makes GET requests read-only
        query_params = {k[len("param_") :]: v for k, v in params.items() if k.startswith("param_")}
        statement = query.strip().rstrip(";").rstrip()
        if not statement:
            raise ClickHouseHTTPError(62, "Empty query.", "SYNTAX_ERROR")
        with self._lock:
            # ClickHouse's own parser: one statement only, and where its FORMAT clause is.
            canonical = self._query("SELECT formatQuery({q:String})", "TSV", {"q": _escape_value(statement)})
            found = _FORMAT_CLAUSE.search(canonical.bytes().decode().replace("\\n", "\n"))
            output_format = found.group(1) if found else params.get("default_format", "TabSeparated")
            self._query(f"USE {_quote_identifier(params.get('database') or 'default')}", "TabSeparated")
            result = self._query(statement + _settings_clause(settings), output_format, query_params)
        body = bytes(result.bytes())
        summary = {
            "read_rows": str(result.rows_read()),
            "read_bytes": str(result.bytes_read()),
            "written_rows": str(result.rows_written()),
            "written_bytes": str(result.bytes_written()),
            "total_rows_to_read": str(result.storage_rows_read()),
            "result_rows": str(result.rows_read()),
            "result_bytes": str(len(body)),
            "elapsed_ns": str(int(result.elapsed() * 1e9)),
        }
        return body, output_format, summary

    def _query(self, sql: str, fmt: str, params: dict[str, str] | None = None) -> Any:
        try:
            return self.session.query(sql, fmt, params=params or {})
        except Exception as exc:  # chdb raises ChdbError/RuntimeError carrying ClickHouse's text
            raise _as_clickhouse_error(str(exc)) from None


def _is_setting(name: str) -> bool:
    return name not in HTTP_PARAMETERS and not name.startswith("param_")


def _escape_value(text: str) -> str:
    """Query parameter values are read in ClickHouse's escaped text format."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def _quote_identifier(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _settings_clause(settings: Mapping[str, str]) -> str:
    parts = []
    for name, value in settings.items():
        if not _IDENTIFIER.match(name):
            raise ClickHouseHTTPError(115, f"Unknown setting '{name}'.", "UNKNOWN_SETTING")
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        literal = value if _NUMBER.match(value) else f"'{escaped}'"
        parts.append(f"{name} = {literal}")
    # A second SETTINGS clause is legal and wins, so a query's own `SETTINGS readonly=0` cannot
    # override the request's settings (and in readonly mode ClickHouse refuses to change it).
    return ("\nSETTINGS " + ", ".join(parts)) if parts else ""


def _as_clickhouse_error(text: str) -> ClickHouseHTTPError:
    found = _CODE.search(text)
    code = int(found.group(1)) if found else 1002
    message = text.rsplit("DB::Exception: ", 1)[-1].strip()
    message = re.sub(r"\s*\(version [^)]*\)\.?", "", message)
    names = _NAME.findall(message)
    name = names[-1] if names else "UNKNOWN_EXCEPTION"
    message = re.sub(r"\s*\(" + name + r"\)\.?\s*$", "", message).rstrip(".")
    return ClickHouseHTTPError(code, message, name)


class _Handler(BaseHTTPRequestHandler):
    backend: ChdbClickHouseServer
    protocol_version = "HTTP/1.1"
    server_version = "ClickHouse"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        if url.path in ("/ping", "/") and method == "GET" and not url.query:
            self._send(200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"})
            return
        if url.path != "/":
            self._send(404, f"There is no handle {url.path}\n".encode(), {"Content-Type": "text/plain"})
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        query_id = params.get("query_id") or str(uuid.uuid4())
        headers = {
            "X-ClickHouse-Server-Display-Name": self.backend.display_name,
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": "Etc/UTC",
        }
        if "session_id" in params:
            headers["X-ClickHouse-Session-Id"] = params["session_id"]
        if self.headers.get("Content-Type", "").startswith("multipart/"):
            refused = ClickHouseHTTPError(48, "Multipart requests are not served here", "NOT_IMPLEMENTED")
            self._error(refused, headers)
            return
        text = body.decode("utf-8", errors="replace")
        query = f"{params['query']}\n{text}" if params.get("query") and text else params.get("query") or text
        safe_headers = {k: v for k, v in self.headers.items() if k != "Authorization"}
        self.backend.requests.append(CapturedRequest(method, params, query, safe_headers))
        try:
            self.backend.authenticate(self.headers, params)
            data, output_format, summary = self.backend.run(method, params, query)
        except ClickHouseHTTPError as exc:
            self._error(exc, headers)
            return
        headers["X-ClickHouse-Format"] = output_format
        headers["X-ClickHouse-Summary"] = json.dumps(summary, separators=(",", ":"))
        headers["Content-Type"] = _CONTENT_TYPES.get(output_format, "application/octet-stream")
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if params.get("enable_http_compression", self.backend.compression_default) == "1" and wants_gzip:
            data = gzip.compress(data, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        self._send(200, data, headers)

    def _error(self, exc: ClickHouseHTTPError, headers: dict[str, str]) -> None:
        headers["X-ClickHouse-Exception-Code"] = str(exc.code)
        headers["Content-Type"] = "text/plain; charset=UTF-8"
        version = f"(version {self.backend.version} (official build))"
        text = f"Code: {exc.code}. DB::Exception: {exc}. ({exc.name}) {version}\n"
        self._send(_STATUS_BY_CODE.get(exc.code, 500), text.encode(), headers)

    def _send(self, status: int, data: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Keep-Alive", "timeout=10")
        self.end_headers()
        self.wfile.write(data)
