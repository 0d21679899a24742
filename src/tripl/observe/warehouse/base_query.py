"""Validation of users' base queries: exactly one read-only SELECT the warehouse runs as we render it."""

from __future__ import annotations

from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

Dialect = Literal["duckdb", "postgres", "clickhouse", "bigquery"]
DIALECTS: tuple[str, ...] = ("duckdb", "postgres", "clickhouse", "bigquery")


def check_dialect(dialect: str) -> None:
    """ValueError unless `dialect` is one tripl renders SQL for."""
    if dialect not in DIALECTS:
        raise ValueError(f"Unknown SQL dialect {dialect!r}")


class InvalidQuery(ValueError):
    """The base query is not one read-only SELECT; the message says what to change."""


# Statement kinds that must not appear anywhere in a base query, with the word users see.
_FORBIDDEN: dict[type[exp.Expression], str] = {
    exp.Insert: "INSERT",
    exp.Update: "UPDATE",
    exp.Delete: "DELETE",
    exp.Merge: "MERGE",
    exp.Create: "CREATE",
    exp.Drop: "DROP",
    exp.Alter: "ALTER",
    exp.TruncateTable: "TRUNCATE",
    exp.Copy: "COPY",
    exp.Attach: "ATTACH",
    exp.Detach: "DETACH",
    exp.Set: "SET",
    exp.Pragma: "PRAGMA",
    exp.Grant: "GRANT",
    exp.Revoke: "REVOKE",
    exp.Use: "USE",
    exp.Commit: "COMMIT",
    exp.Rollback: "ROLLBACK",
    exp.Transaction: "a transaction statement",
    exp.LoadData: "LOAD DATA",
    exp.Into: "SELECT INTO",
    exp.Describe: "DESCRIBE",
    exp.Cache: "CACHE",
    exp.Uncache: "UNCACHE",
    exp.Refresh: "REFRESH",
    exp.Analyze: "ANALYZE",
    exp.Kill: "KILL",
    exp.Lock: "a locking clause (FOR UPDATE/FOR SHARE)",
    exp.Install: "INSTALL",
    exp.Summarize: "SUMMARIZE",
    exp.Export: "EXPORT",
    exp.Execute: "EXECUTE",
    exp.Command: "a command",
}


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Functions that reach outside the warehouse or change server state, refused in base queries (the
# warehouse credentials stay the real bound; this keeps the obvious ones out with a clear message).
_FORBIDDEN_FUNCTIONS: dict[str, frozenset[str]] = {
    "postgres": _names(
        """dblink dblink_exec dblink_connect dblink_connect_u dblink_send_query pg_terminate_backend
        pg_cancel_backend pg_reload_conf pg_rotate_logfile pg_read_file pg_read_binary_file pg_ls_dir
        pg_stat_file lo_import lo_export set_config pg_advisory_lock pg_advisory_xact_lock pg_promote
        pg_switch_wal"""
    ),
    "clickhouse": _names(
        """url urlcluster file filecluster s3 s3cluster gcs azureblobstorage hdfs remote remotesecure
        cluster clusterallreplicas mysql postgresql sqlite mongodb redis jdbc odbc executable input
        iceberg deltalake"""
    ),
    "duckdb": _names(
        """read_csv read_csv_auto read_parquet parquet_scan read_json read_json_auto read_json_objects
        read_ndjson read_text read_blob glob sniff_csv"""
    ),
    "bigquery": frozenset({"external_query"}),
}


def _function_name(node: object) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return None


def parse_base_query(sql: str, dialect: str) -> exp.Query:
    """Parse and validate a base query: exactly one read-only SELECT/WITH, no comments; else InvalidQuery."""
    check_dialect(dialect)
    text = sql.strip()
    if not text:
        raise InvalidQuery("The query is empty; write one SELECT statement.")
    try:
        tokens = sqlglot.tokenize(text, read=dialect)
    except TokenError as exc:
        raise InvalidQuery(f"The query could not be read: {exc}") from None
    if any(token.comments for token in tokens):
        raise InvalidQuery("SQL comments (-- or /* */) are not allowed in the query; remove them.")
    if any(token.token_type == TokenType.SEMICOLON for token in tokens):
        raise InvalidQuery("Only one statement is allowed: remove the ';'.")
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except ParseError as exc:
        first = exc.errors[0]["description"] if exc.errors else str(exc)
        raise InvalidQuery(f"The query could not be parsed: {first}") from None
    if len(statements) != 1:
        raise InvalidQuery("Only one statement is allowed.")
    statement = statements[0]
    for node in statement.walk():
        for kind, word in _FORBIDDEN.items():
            if isinstance(node, kind):
                raise InvalidQuery(f"The query must be read-only: {word} is not allowed.")
        if isinstance(node, exp.Select) and node.args.get("into") is not None:
            raise InvalidQuery("The query must be read-only: SELECT INTO is not allowed.")
        function = _function_name(node)
        if function is not None and function in _FORBIDDEN_FUNCTIONS[dialect]:
            raise InvalidQuery(
                f"The query must read only this warehouse's data: the function {function}() is not allowed."
            )
    if not isinstance(statement, exp.Query):
        raise InvalidQuery(
            f"Only a SELECT (or WITH ... SELECT) query is allowed; found {statement.key.upper()}."
        )
    _check_faithful(statement, dialect)
    return statement


def _check_faithful(statement: exp.Query, dialect: str) -> None:
    """Refuse queries sqlglot cannot re-render faithfully (the warehouse runs our rendering).

    A faithful rendering is a fixpoint: parsing and rendering it again gives the same text. A
    misread construct (e.g. a string origin in PostgreSQL's date_bin) changes on the second pass.
    """
    first = statement.sql(dialect)
    try:
        second = sqlglot.parse_one(first, read=dialect).sql(dialect)
    except (ParseError, TokenError):
        second = None
    if second != first:
        at = next((i for i, (a, b) in enumerate(zip(first, second or "", strict=False)) if a != b), 0)
        near = first[max(0, at - 30) : at + 30]
        raise InvalidQuery(
            f"The query uses a construct tripl cannot pass on to {dialect} unchanged (near: {near!r}); "
            "write it another way, e.g. with explicit casts such as CAST('2000-01-01' AS timestamp)."
        )
