"""Warehouse SQL, built once with sqlglot and rendered per dialect.

Every builder wraps the user's `base_query` (one read-only SELECT, see `parse_base_query`) as the
subquery `src` and pushes the aggregation into the warehouse. Dialects: "duckdb", "postgres",
"clickhouse", "bigquery". User values never reach SQL text by interpolation: column names become
quoted identifiers and timestamps/paths become escaped literals, both through sqlglot.

Output aliases (stable; callers read result columns by these names):
- `__c0`, `__c1`, ... the i-th requested column (`columns` / `scope_columns`), in order;
- `__bucket` the bucket start (a timestamp on the `buckets` grid; naive values mean UTC);
- `__value` a breakdown value as text (at most `MAX_VALUE_LENGTH` characters);
- `__is_other` true on the one row per (bucket, scope) folding the values outside the top N;
- `__count` the number of rows of the group.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from tripl.observe.warehouse.buckets import as_utc, grid_offset_seconds, interval_seconds

Dialect = Literal["duckdb", "postgres", "clickhouse", "bigquery"]
DIALECTS: tuple[str, ...] = ("duckdb", "postgres", "clickhouse", "bigquery")

COUNT_ALIAS = "__count"
BUCKET_ALIAS = "__bucket"
VALUE_ALIAS = "__value"
OTHER_ALIAS = "__is_other"
MAX_VALUE_LENGTH = 500


def column_alias(index: int) -> str:
    """Output alias of the index-th requested column: `__c0`, `__c1`, ..."""
    return f"__c{index}"


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


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"Unknown SQL dialect {dialect!r}")


def parse_base_query(sql: str, dialect: str) -> exp.Query:
    """Parse and validate a base query: exactly one read-only SELECT/WITH, no comments; else InvalidQuery."""
    _check_dialect(dialect)
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


# --- column references -------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    """One output column: a plain column, a JSON value at `path`, or a JSON column's key paths."""

    column: str
    path: tuple[str, ...] = ()
    json_keys: bool = False

    def __post_init__(self) -> None:
        if not self.column:
            raise InvalidQuery("A column name is empty.")
        if self.path and self.json_keys:
            raise ValueError("a ColumnSpec is either a JSON value path or the JSON key paths")
        for key in self.path:
            if not key or '"' in key or "\\" in key:
                raise InvalidQuery(
                    f"Invalid JSON path {self.ref!r}: each part must be non-empty, without '\"' or '\\'."
                )

    @classmethod
    def parse(cls, ref: str, json_columns: Collection[str] = ()) -> ColumnSpec:
        """`col` or `<json col>.<a>.<b>` (a JSON path when the prefix is one of `json_columns`)."""
        owners = [c for c in json_columns if ref.startswith(c + ".")]
        if ref in json_columns or not owners:
            return cls(ref)
        owner = max(owners, key=len)
        return cls(owner, tuple(ref[len(owner) + 1 :].split(".")))

    @classmethod
    def keys_of(cls, column: str) -> ColumnSpec:
        """The sorted, comma-joined key paths of the JSON object in `column` (see json_key_paths_expr)."""
        return cls(column, json_keys=True)

    @property
    def ref(self) -> str:
        """The dotted reference users write: `col` or `col.a.b`."""
        return ".".join((self.column, *self.path))


def _col(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True))


def _fn(name: str, *args: exp.Expression) -> exp.Anonymous:
    """A function call rendered verbatim (sqlglot must not reinterpret its arguments)."""
    return exp.Anonymous(this=name, expressions=list(args))


def _str(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _num(value: int) -> exp.Expression:
    return exp.Literal.number(value)


def _template(sql: str, dialect: str, **args: exp.Expression) -> exp.Expression:
    """Parse a dialect-specific fragment and put `args` in place of its `__name` placeholder columns."""

    def put(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in args:
            return args[node.name].copy()
        return node

    return sqlglot.parse_one(sql, read=dialect).transform(put)


def json_value_expr(column: str, path: Sequence[str], dialect: str) -> exp.Expression:
    """The JSON value at `path` inside `column`, as text (strings unquoted; NULL when missing or null).

    duckdb/postgres/clickhouse: objects and arrays come back as JSON text; bigquery (JSON_VALUE):
    only scalars, NULL for objects and arrays. `column` may be a JSON(B) column or text holding JSON.
    """
    _check_dialect(dialect)
    ColumnSpec(column, tuple(path))  # validates the path parts
    col = _col(column)
    if dialect == "duckdb":
        json_path = "$" + "".join(f'."{key}"' for key in path)
        return _fn("json_extract_string", exp.cast(col, "JSON"), _str(json_path))
    if dialect == "postgres":
        return _fn("jsonb_extract_path_text", exp.cast(col, "JSONB"), *(_str(k) for k in path))
    if dialect == "clickhouse":
        args = [_fn("ifNull", _fn("toString", col), _str("")), *(_str(k) for k in path)]
        json_type = _fn("JSONType", *args)
        return _fn(
            "multiIf",
            exp.EQ(this=json_type, expression=_str("String")),
            _fn("JSONExtractString", *args),
            exp.EQ(this=json_type.copy(), expression=_str("Null")),
            exp.Null(),
            _fn("JSONHas", *args),
            _fn("JSONExtractRaw", *args),
            exp.Null(),
        )
    json_path = "$" + "".join(f'."{key}"' for key in path)
    return _fn("JSON_VALUE", col, _str(json_path))


_KEY_PATHS_TEMPLATES: dict[str, str] = {
    "duckdb": (
        "NULLIF(array_to_string(list_sort(list_concat(json_keys(CAST(__j AS JSON)), flatten(list_transform("
        "json_keys(CAST(__j AS JSON)), lambda k: CASE WHEN json_type(CAST(__j AS JSON), '$.\"' || k || '\"')"
        " = 'OBJECT' THEN list_transform(json_keys(CAST(__j AS JSON), '$.\"' || k || '\"'),"
        " lambda c: k || '.' || c) ELSE [] END)))), ','), '')"
    ),
    "postgres": (
        "(SELECT string_agg(kp.p, ',' ORDER BY kp.p COLLATE \"C\") FROM ("
        "SELECT e.key AS p FROM jsonb_each(CASE WHEN jsonb_typeof(CAST(__j AS JSONB)) = 'object'"
        " THEN CAST(__j AS JSONB) END) AS e"
        " UNION ALL SELECT e.key || '.' || c.key FROM jsonb_each(CASE WHEN jsonb_typeof(CAST(__j AS JSONB))"
        " = 'object' THEN CAST(__j AS JSONB) END) AS e CROSS JOIN LATERAL jsonb_each(e.value) AS c"
        " WHERE jsonb_typeof(e.value) = 'object') AS kp)"
    ),
    "clickhouse": (
        "nullIf(arrayStringConcat(arraySort(arrayConcat(JSONExtractKeys(ifNull(toString(__j), '')),"
        " arrayFlatten(arrayMap(k -> if(JSONType(ifNull(toString(__j), ''), k) = 'Object',"
        " arrayMap(c -> concat(k, '.', c), JSONExtractKeys(ifNull(toString(__j), ''), k)), []),"
        " JSONExtractKeys(ifNull(toString(__j), '')))))), ','), '')"
    ),
    "bigquery": (
        "NULLIF(ARRAY_TO_STRING(ARRAY(SELECT k FROM UNNEST(JSON_KEYS(__j, 2)) AS k ORDER BY k), ','), '')"
    ),
}


def json_key_paths_expr(column: str, dialect: str) -> exp.Expression:
    """Per row, the sorted (byte order), comma-joined key paths of the JSON object in `column`.

    Paths are the top-level keys plus `parent.child` for the keys of objects nested one level
    down, on every dialect: duckdb (json_keys/json_type), postgres (jsonb_each; text or json
    columns are cast to jsonb), clickhouse (JSONExtractKeys over the column's text, so String or
    JSON columns), bigquery (JSON_KEYS depth 2; JSON-typed columns only, PARSE_JSON a STRING
    column in the base query). NULL when the value is NULL, not an object, or an empty object.
    Keys containing ',' or '.' are not escaped.
    """
    _check_dialect(dialect)
    return _template(_KEY_PATHS_TEMPLATES[dialect], dialect, __j=_col(column))


def column_expr(spec: ColumnSpec, dialect: str) -> exp.Expression:
    """The SQL expression for one requested column."""
    if spec.json_keys:
        return json_key_paths_expr(spec.column, dialect)
    if spec.path:
        return json_value_expr(spec.column, spec.path, dialect)
    return _col(spec.column)


def text_value_expr(expression: exp.Expression, dialect: str) -> exp.Expression:
    """`expression` cast to text and cut to MAX_VALUE_LENGTH characters."""
    if dialect == "clickhouse":
        return _fn("leftUTF8", _fn("toString", expression), _num(MAX_VALUE_LENGTH))
    text_type = {"duckdb": "VARCHAR", "postgres": "TEXT", "bigquery": "STRING"}[dialect]
    return exp.Substring(this=exp.cast(expression, text_type), start=_num(1), length=_num(MAX_VALUE_LENGTH))


# --- time --------------------------------------------------------------------------------------


def time_literal(value: datetime, dialect: str) -> exp.Expression:
    """A UTC instant as a literal the dialect compares correctly with its timestamp columns.

    Naive datetimes are taken as UTC. duckdb/postgres get '...+00' (honoured for zoned columns,
    ignored for naive ones which hold UTC); bigquery a zone-less string (TIMESTAMP reads it as UTC,
    DATETIME as is); clickhouse toDateTime64(..., 'UTC').
    """
    _check_dialect(dialect)
    utc = as_utc(value)
    text = utc.strftime("%Y-%m-%d %H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    if dialect == "clickhouse":
        return _fn("toDateTime64", _str(text), _num(6), _str("UTC"))
    if dialect == "bigquery":
        return _str(text)
    return _str(text + "+00")


def bucket_expr(time_column: str, interval: str, dialect: str) -> exp.Expression:
    """Start of the `interval` bucket holding `time_column`, on exactly the grid of buckets.floor_bucket.

    duckdb: epoch microseconds, integer-divided, as a naive UTC TIMESTAMP; postgres: date_bin (14+),
    same type as the column; clickhouse: DateTime('UTC'); bigquery: TIMESTAMP. Works on timestamp,
    zoned timestamp and date columns; rows before the grid origin (1970) are not supported.
    """
    _check_dialect(dialect)
    step, offset = interval_seconds(interval), grid_offset_seconds(interval)
    col = _col(time_column)
    if dialect == "postgres":
        origin = "1970-01-01 00:00:00+00" if offset == 0 else "1970-01-05 00:00:00+00"
        return _fn("date_bin", exp.cast(_str(f"{step} seconds"), "INTERVAL"), col, _str(origin))
    templates = {
        "duckdb": "make_timestamp((epoch_us(__t){minus}) // {n} * {n}{plus})",
        "clickhouse": "toDateTime(intDiv(toUnixTimestamp(__t){minus}, {n}) * {n}{plus}, 'UTC')",
        # CAST accepts TIMESTAMP, DATETIME (read as UTC) and DATE columns alike.
        "bigquery": "TIMESTAMP_SECONDS(DIV((UNIX_SECONDS(CAST(__t AS TIMESTAMP)){minus}), {n}) * {n}{plus})",
    }
    scale = 1_000_000 if dialect == "duckdb" else 1
    shift = offset * scale
    sql = templates[dialect].format(
        n=step * scale, minus=f" - {shift}" if shift else "", plus=f" + {shift}" if shift else ""
    )
    return _template(sql, dialect, __t=col)


def _time_filter(
    time_column: str | None, time_from: datetime | None, time_to: datetime | None, dialect: str
) -> exp.Expression | None:
    if time_column is None:
        return None
    conditions: list[exp.Expression] = []
    if time_from is not None:
        conditions.append(exp.GTE(this=_col(time_column), expression=time_literal(time_from, dialect)))
    if time_to is not None:
        conditions.append(exp.LT(this=_col(time_column), expression=time_literal(time_to, dialect)))
    if not conditions:
        return None
    return cast(exp.Expression, exp.and_(*conditions))


# --- builders ----------------------------------------------------------------------------------


def _base(base_query: exp.Query | str, dialect: str) -> exp.Query:
    _check_dialect(dialect)
    if isinstance(base_query, str):
        return parse_base_query(base_query, dialect)
    return base_query


def _source(base: exp.Query) -> exp.Subquery:
    return base.copy().subquery("src")


def _check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be a non-negative integer, got {limit!r}")
    return limit


def describe_sql(base_query: exp.Query | str, dialect: str) -> str:
    """SQL returning the base query's columns and zero rows (column discovery)."""
    base = _base(base_query, dialect)
    return exp.select("*").from_(_source(base)).limit(0).sql(dialect)


def preview_sql(
    base_query: exp.Query | str,
    dialect: str,
    *,
    limit: int,
    time_column: str | None = None,
    since: datetime | None = None,
) -> str:
    """SQL returning up to `limit` raw rows of the base query, only rows at/after `since` when given."""
    base = _base(base_query, dialect)
    query = exp.select("*").from_(_source(base))
    condition = _time_filter(time_column, since, None, dialect)
    if condition is not None:
        query = query.where(condition)
    return query.limit(_check_limit(limit)).sql(dialect)


def _counts(
    base: exp.Query,
    dialect: str,
    projections: list[tuple[str, exp.Expression]],
    condition: exp.Expression | None,
    limit: int,
) -> str:
    selected = [expr.as_(alias) for alias, expr in projections] or [exp.Literal.number(1).as_("__one")]
    inner = exp.select(*selected)
    inner = inner.from_(_source(base))
    if condition is not None:
        inner = inner.where(condition)
    aliases = [alias for alias, _ in projections]
    outer = exp.select(*aliases, exp.Count(this=exp.Star()).as_(COUNT_ALIAS)).from_(inner.subquery("__rows"))
    if aliases:
        outer = outer.group_by(*aliases)
    outer = outer.order_by(exp.Ordered(this=exp.column(COUNT_ALIAS), desc=True))
    return outer.limit(_check_limit(limit)).sql(dialect)


def grouped_counts_sql(
    base_query: exp.Query | str,
    dialect: str,
    *,
    columns: Sequence[ColumnSpec],
    time_column: str | None = None,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
    limit: int,
) -> str:
    """Row counts per distinct combination of `columns` (`__c0..`, `__count`), largest first."""
    base = _base(base_query, dialect)
    projections = [(column_alias(i), column_expr(spec, dialect)) for i, spec in enumerate(columns)]
    condition = _time_filter(time_column, time_from, time_to, dialect)
    return _counts(base, dialect, projections, condition, limit)


def bucketed_counts_sql(
    base_query: exp.Query | str,
    dialect: str,
    *,
    time_column: str,
    interval: str,
    columns: Sequence[ColumnSpec],
    time_from: datetime | None,
    time_to: datetime | None,
    limit: int,
) -> str:
    """Like grouped_counts_sql, also grouped by `__bucket` (the interval's grid) in [from, to)."""
    base = _base(base_query, dialect)
    projections = [(BUCKET_ALIAS, bucket_expr(time_column, interval, dialect))]
    projections += [(column_alias(i), column_expr(spec, dialect)) for i, spec in enumerate(columns)]
    condition = _time_filter(time_column, time_from, time_to, dialect)
    return _counts(base, dialect, projections, condition, limit)


def top_values_sql(
    base_query: exp.Query | str,
    dialect: str,
    *,
    time_column: str,
    interval: str,
    scope_columns: Sequence[ColumnSpec],
    value_column: ColumnSpec,
    time_from: datetime | None,
    time_to: datetime | None,
    top_n: int | None,
    limit: int,
) -> str:
    """Counts per (`__bucket`, scope `__c0..`, `__value`) with `__is_other` folding values outside the top N.

    With `top_n`, each scope keeps its `top_n` values by volume over the whole [from, to) window
    (ties broken by value); the rest become one row per bucket with `__value` NULL and
    `__is_other` true. Without it every value is kept and `__is_other` is false. Values are text
    cut to MAX_VALUE_LENGTH characters; a NULL value is a value of its own (`__is_other` false).
    """
    base = _base(base_query, dialect)
    scopes = [column_alias(i) for i in range(len(scope_columns))]
    rows = exp.select(
        bucket_expr(time_column, interval, dialect).as_(BUCKET_ALIAS),
        *(column_expr(spec, dialect).as_(alias) for alias, spec in zip(scopes, scope_columns, strict=True)),
        text_value_expr(column_expr(value_column, dialect), dialect).as_("__v"),
    ).from_(_source(base))
    condition = _time_filter(time_column, time_from, time_to, dialect)
    if condition is not None:
        rows = rows.where(condition)
    keys = [BUCKET_ALIAS, *scopes, "__v"]
    counts = exp.select(*keys, exp.Count(this=exp.Star()).as_("__n")).from_("__rows").group_by(*keys)
    query: exp.Select
    if top_n is None:
        query = exp.select(
            BUCKET_ALIAS,
            *scopes,
            exp.column("__v").as_(VALUE_ALIAS),
            exp.false().as_(OTHER_ALIAS),
            exp.column("__n").as_(COUNT_ALIAS),
        ).from_("__counts")
    else:
        top = _num(_check_limit(top_n))
        partition = [exp.column(s) for s in scopes]
        total = exp.Window(
            this=exp.Sum(this=exp.column("__n")),
            partition_by=[*partition, exp.column("__v")],
        )
        totals = exp.select(*keys, "__n", total.as_("__total")).from_("__counts")
        rank = exp.Window(
            this=exp.Anonymous(this="DENSE_RANK", expressions=[]),
            partition_by=[p.copy() for p in partition] or None,
            order=exp.Order(
                expressions=[
                    exp.Ordered(this=exp.column("__total"), desc=True, nulls_first=False),
                    exp.Ordered(this=exp.column("__v"), desc=False, nulls_first=False),
                ]
            ),
        )
        ranked = exp.select(*keys, "__n", rank.as_("__rank")).from_("__totals")
        in_top = exp.LTE(this=exp.column("__rank"), expression=top)
        value = exp.Case(ifs=[exp.If(this=in_top, true=exp.column("__v"))])
        other = exp.GT(this=exp.column("__rank"), expression=top.copy())
        query = (
            exp.select(
                BUCKET_ALIAS,
                *scopes,
                value.as_(VALUE_ALIAS),
                other.as_(OTHER_ALIAS),
                exp.Sum(this=exp.column("__n")).as_(COUNT_ALIAS),
            )
            .from_("__ranked")
            .group_by(BUCKET_ALIAS, *scopes, value.copy(), other.copy())
        )
    query = query.with_("__rows", as_=rows).with_("__counts", as_=counts)
    if top_n is not None:
        query = query.with_("__totals", as_=totals).with_("__ranked", as_=ranked)
    query = query.order_by(exp.Ordered(this=exp.column(COUNT_ALIAS), desc=True))
    return query.limit(_check_limit(limit)).sql(dialect)
