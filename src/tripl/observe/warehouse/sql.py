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

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import cast

from sqlglot import exp

from tripl.observe.warehouse.base_query import (
    DIALECTS,
    Dialect,
    InvalidQuery,
    check_dialect,
    parse_base_query,
)
from tripl.observe.warehouse.expressions import (
    MAX_VALUE_LENGTH,
    ColumnSpec,
    bucket_expr,
    bucket_number_expr,
    bucket_start_expr,
    column_expr,
    json_key_paths_expr,
    json_value_expr,
    quoted_column,
    text_value_expr,
    time_literal,
)

__all__ = [
    "BUCKET_ALIAS",
    "COUNT_ALIAS",
    "DIALECTS",
    "MAX_VALUE_LENGTH",
    "OTHER_ALIAS",
    "VALUE_ALIAS",
    "ColumnSpec",
    "Dialect",
    "InvalidQuery",
    "WindowedSql",
    "bucket_expr",
    "bucketed_counts_sql",
    "column_alias",
    "column_expr",
    "describe_sql",
    "grouped_counts_sql",
    "json_key_paths_expr",
    "json_value_expr",
    "parse_base_query",
    "preview_sql",
    "text_value_expr",
    "time_literal",
    "top_values_sql",
]

COUNT_ALIAS = "__count"
BUCKET_ALIAS = "__bucket"
BUCKET_NUMBER = "__bucket_no"  # grouped on; shown as BUCKET_ALIAS
VALUE_ALIAS = "__value"
OTHER_ALIAS = "__is_other"


def column_alias(index: int) -> str:
    """Output alias of the index-th requested column: `__c0`, `__c1`, ..."""
    return f"__c{index}"


def _num(value: int) -> exp.Expression:
    return exp.Literal.number(value)


def _time_filter(
    time_column: str | None, time_from: datetime | None, time_to: datetime | None, dialect: str
) -> exp.Expression | None:
    if time_column is None:
        return None
    conditions: list[exp.Expression] = []
    if time_from is not None:
        conditions.append(
            exp.GTE(this=quoted_column(time_column), expression=time_literal(time_from, dialect))
        )
    if time_to is not None:
        conditions.append(exp.LT(this=quoted_column(time_column), expression=time_literal(time_to, dialect)))
    if not conditions:
        return None
    return cast(exp.Expression, exp.and_(*conditions))


# Stand-in bounds a windowed query is rendered with once; their literals are then swapped for each
# window's. Instants no collection asks for (the bucket grid starts in 1970).
_STAND_IN_FROM = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_STAND_IN_TO = datetime(1902, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


class WindowedSql:
    """A query built once whose only change from one window to the next is its [from, to) bounds.

    `build(time_from, time_to)` renders the whole query (one builder call, a copy of the base
    query's tree and a full sqlglot render); rendering it per chunk of a replay cost more than some
    of its queries. So it is rendered once with stand-in bounds, and each window's SQL is that text
    with the two bound literals swapped for the window's, rendered by `time_literal` exactly as the
    builder renders them. Bound parameters would not do: the drivers' placeholder syntax differs
    (psycopg's `%s` would also claim a `%` in a user's LIKE pattern) and a typed parameter compares
    with naive and zoned columns differently from the literal. When a stand-in literal does not
    occur exactly once in the text (a base query spelling it out), every window is built in full.
    """

    def __init__(self, build: Callable[[datetime, datetime], str], dialect: str) -> None:
        self._build = build
        self._dialect = dialect
        template = build(_STAND_IN_FROM, _STAND_IN_TO)
        start, end = self._literal(_STAND_IN_FROM), self._literal(_STAND_IN_TO)
        self._parts: tuple[str, str, str] | None = None
        if template.count(start) == 1 and template.count(end) == 1:
            head, rest = template.split(start)
            if end in rest:
                middle, tail = rest.split(end)
                self._parts = (head, middle, tail)

    def _literal(self, moment: datetime) -> str:
        return time_literal(moment, self._dialect).sql(self._dialect)

    def render(self, time_from: datetime, time_to: datetime) -> str:
        if self._parts is None:
            return self._build(time_from, time_to)
        head, middle, tail = self._parts
        return f"{head}{self._literal(time_from)}{middle}{self._literal(time_to)}{tail}"


# --- builders ----------------------------------------------------------------------------------


def _base(base_query: exp.Query | str, dialect: str) -> exp.Query:
    check_dialect(dialect)
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
    outputs: dict[str, exp.Expr] | None = None,
    *,
    largest_first: bool,
) -> str:
    """Counts per distinct `projections` (largest first when asked); `outputs` shows a projection
    as an expression of it."""
    selected = [expr.as_(alias) for alias, expr in projections] or [exp.Literal.number(1).as_("__one")]
    inner = exp.select(*selected)
    inner = inner.from_(_source(base))
    if condition is not None:
        inner = inner.where(condition)
    aliases = [alias for alias, _ in projections]
    outputs = outputs or {}
    shown = [outputs.get(alias) or exp.column(alias) for alias in aliases]
    outer = exp.select(*shown, exp.Count(this=exp.Star()).as_(COUNT_ALIAS)).from_(inner.subquery("__rows"))
    if aliases:
        outer = outer.group_by(*aliases)
    if largest_first:
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
    return _counts(base, dialect, projections, condition, limit, largest_first=True)


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
    """Like grouped_counts_sql, also grouped by `__bucket` (the interval's grid) in [from, to), in
    no particular order: `limit` only caps the rows (collection asks for one more than its row
    limit and fails when it gets it), so sorting them would be wasted work."""
    base = _base(base_query, dialect)
    projections = [(BUCKET_NUMBER, bucket_number_expr(time_column, interval, dialect))]
    projections += [(column_alias(i), column_expr(spec, dialect)) for i, spec in enumerate(columns)]
    condition = _time_filter(time_column, time_from, time_to, dialect)
    outputs = {BUCKET_NUMBER: _bucket_start(interval, dialect)}
    return _counts(base, dialect, projections, condition, limit, outputs, largest_first=False)


def _bucket_start(interval: str, dialect: str) -> exp.Expr:
    """`__bucket` from the grouped bucket number (see bucket_number_expr)."""
    return bucket_start_expr(exp.column(BUCKET_NUMBER), interval, dialect).as_(BUCKET_ALIAS)


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
    Rows come in no particular order (see bucketed_counts_sql).
    """
    base = _base(base_query, dialect)
    scopes = [column_alias(i) for i in range(len(scope_columns))]
    rows = exp.select(
        bucket_number_expr(time_column, interval, dialect).as_(BUCKET_NUMBER),
        *(column_expr(spec, dialect).as_(alias) for alias, spec in zip(scopes, scope_columns, strict=True)),
        text_value_expr(column_expr(value_column, dialect), dialect).as_("__v"),
    ).from_(_source(base))
    condition = _time_filter(time_column, time_from, time_to, dialect)
    if condition is not None:
        rows = rows.where(condition)
    keys = [BUCKET_NUMBER, *scopes, "__v"]
    counts = exp.select(*keys, exp.Count(this=exp.Star()).as_("__n")).from_("__rows").group_by(*keys)
    query: exp.Select
    if top_n is None:
        query = exp.select(
            _bucket_start(interval, dialect),
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
                _bucket_start(interval, dialect),
                *scopes,
                value.as_(VALUE_ALIAS),
                other.as_(OTHER_ALIAS),
                exp.Sum(this=exp.column("__n")).as_(COUNT_ALIAS),
            )
            .from_("__ranked")
            .group_by(BUCKET_NUMBER, *scopes, value.copy(), other.copy())
        )
    # DuckDB turns the per-value window total into a join of __counts with its own aggregate, and
    # so scans and groups the base query twice (2x the query's time); materialized, it runs once.
    materialized = dialect == "duckdb" and top_n is not None
    query = query.with_("__rows", as_=rows).with_("__counts", as_=counts, materialized=materialized or None)
    if top_n is not None:
        query = query.with_("__totals", as_=totals).with_("__ranked", as_=ranked)
    return query.limit(_check_limit(limit)).sql(dialect)
