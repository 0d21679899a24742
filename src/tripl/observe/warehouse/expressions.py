"""SQL expressions per dialect: column references, JSON access, text values, time literals, buckets.

Dialect-specific functions are built as verbatim calls (or parsed from a template in that
dialect), so sqlglot never reinterprets their arguments; every user value is a quoted identifier
or an escaped literal.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlglot
from sqlglot import exp

from tripl.observe.warehouse.base_query import InvalidQuery, check_dialect
from tripl.observe.warehouse.buckets import as_utc, grid_offset_seconds, interval_seconds

MAX_VALUE_LENGTH = 500


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


def quoted_column(name: str) -> exp.Column:
    """A column reference as a quoted identifier (any name, exact case)."""
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
    check_dialect(dialect)
    ColumnSpec(column, tuple(path))  # validates the path parts
    col = quoted_column(column)
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
    check_dialect(dialect)
    return _template(_KEY_PATHS_TEMPLATES[dialect], dialect, __j=quoted_column(column))


def column_expr(spec: ColumnSpec, dialect: str) -> exp.Expression:
    """The SQL expression for one requested column."""
    if spec.json_keys:
        return json_key_paths_expr(spec.column, dialect)
    if spec.path:
        return json_value_expr(spec.column, spec.path, dialect)
    return quoted_column(spec.column)


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
    check_dialect(dialect)
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

    duckdb: a naive UTC TIMESTAMP; postgres: date_bin (14+), same type as the column; clickhouse:
    DateTime('UTC'); bigquery: TIMESTAMP. Works on timestamp, zoned timestamp and date columns;
    rows before the grid origin (1970) are not supported.
    """
    return bucket_start_expr(bucket_number_expr(time_column, interval, dialect), interval, dialect)


# The grid in epoch units (microseconds on DuckDB, seconds elsewhere): a bucket's number is
# (epoch - shift) // n and its start is number * n + shift.
_BUCKET_NUMBER = {
    "duckdb": "(epoch_us(__t){minus}) // {n}",
    "clickhouse": "intDiv(toUnixTimestamp(__t){minus}, {n})",
    # CAST accepts TIMESTAMP, DATETIME (read as UTC) and DATE columns alike.
    "bigquery": "DIV((UNIX_SECONDS(CAST(__t AS TIMESTAMP)){minus}), {n})",
}
_BUCKET_START = {
    "duckdb": "make_timestamp(__t * {n}{plus})",
    "clickhouse": "toDateTime(__t * {n}{plus}, 'UTC')",
    "bigquery": "TIMESTAMP_SECONDS(__t * {n}{plus})",
}


def bucket_number_expr(time_column: str, interval: str, dialect: str) -> exp.Expression:
    """The bucket of `time_column` as a cheap per-row grouping key: the bucket's number since the
    grid origin (the start itself on postgres, where date_bin is native). Group rows by it and turn
    each group's number into its start with `bucket_start_expr`: building a timestamp once per group
    instead of once per row is ~10% of a DuckDB aggregate over plain timestamps."""
    check_dialect(dialect)
    col = quoted_column(time_column)
    if dialect == "postgres":
        step = interval_seconds(interval)
        origin = "1970-01-01 00:00:00+00" if grid_offset_seconds(interval) == 0 else "1970-01-05 00:00:00+00"
        return _fn("date_bin", exp.cast(_str(f"{step} seconds"), "INTERVAL"), col, _str(origin))
    return _on_epoch_grid(_BUCKET_NUMBER[dialect], col, interval, dialect)


def bucket_start_expr(number: exp.Expression, interval: str, dialect: str) -> exp.Expression:
    """The start of the bucket whose `bucket_number_expr` is `number`."""
    check_dialect(dialect)
    if dialect == "postgres":
        return number
    operand = number if isinstance(number, exp.Column) else exp.paren(number)
    return _on_epoch_grid(_BUCKET_START[dialect], operand, interval, dialect)


def _on_epoch_grid(template: str, operand: exp.Expression, interval: str, dialect: str) -> exp.Expression:
    scale = 1_000_000 if dialect == "duckdb" else 1
    n, shift = interval_seconds(interval) * scale, grid_offset_seconds(interval) * scale
    sql = template.format(n=n, minus=f" - {shift}" if shift else "", plus=f" + {shift}" if shift else "")
    return _template(sql, dialect, __t=operand)
