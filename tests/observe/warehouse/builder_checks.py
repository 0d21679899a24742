"""The SQL builders' behaviour, checked on a real engine through a `Runner` (one per dialect).

Each check builds SQL for the runner's dialect over the `sql_dataset` events table, runs it and
asserts the exact result. test_sql.py runs them on DuckDB, chdb (ClickHouse) and BigQuery SQL
transpiled to DuckDB; test_postgres.py on the local PostgreSQL through the adapter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tripl.observe.warehouse import sql as wsql
from tripl.observe.warehouse.sql import ColumnSpec

from .sql_dataset import INTERVALS, ROWS, at, bucket_key, counter_of, normalise, python_counts, top_rows


@dataclass
class Runner:
    dialect: str
    run: Callable[[str], list[tuple[Any, ...]]]
    base: str = "SELECT * FROM events"
    json: bool = True  # whether the engine can run the JSON expressions of this dialect


def check_grouped_counts(r: Runner) -> None:
    sql = wsql.grouped_counts_sql(
        r.base, r.dialect, columns=[ColumnSpec("name"), ColumnSpec("country")], limit=100
    )
    assert counter_of(r.run(sql)) == Counter(
        {
            ("signup", "de"): 2,
            ("signup", "fr"): 1,
            ("signup", "us"): 1,
            ("login", "de"): 2,
            ("login", "us"): 1,
            ("login", None): 1,
        }
    )


def check_grouped_counts_window_is_half_open(r: Runner) -> None:
    sql = wsql.grouped_counts_sql(
        r.base,
        r.dialect,
        columns=[ColumnSpec("name")],
        time_column="ts",
        time_from=at("2024-01-01 00:10:00"),  # included
        time_to=at("2024-01-08 00:00:00"),  # excluded
        limit=100,
    )
    assert counter_of(r.run(sql)) == Counter({("signup",): 4, ("login",): 1})


def check_grouped_counts_without_columns(r: Runner) -> None:
    sql = wsql.grouped_counts_sql(
        r.base, r.dialect, columns=[], time_column="ts", time_from=at("2024-01-08 00:00:00"), limit=10
    )
    assert counter_of(r.run(sql)) == Counter({(): 2})


def check_grouped_counts_limit_keeps_the_largest(r: Runner) -> None:
    sql = wsql.grouped_counts_sql(r.base, r.dialect, columns=[ColumnSpec("country")], limit=1)
    rows = r.run(sql)
    assert [(row[0], int(row[1])) for row in rows] == [("de", 4)]


def check_bucketed_counts_every_interval_matches_python_grid(r: Runner) -> None:
    for interval in INTERVALS:
        sql = wsql.bucketed_counts_sql(
            r.base,
            r.dialect,
            time_column="ts",
            interval=interval,
            columns=[ColumnSpec("name")],
            time_from=None,
            time_to=None,
            limit=100,
        )
        assert counter_of(r.run(sql)) == python_counts(bucket_key(interval)), interval


def check_weekly_buckets_start_on_monday(r: Runner) -> None:
    sql = wsql.bucketed_counts_sql(
        r.base,
        r.dialect,
        time_column="ts",
        interval="1w",
        columns=[ColumnSpec("name")],
        time_from=None,
        time_to=None,
        limit=100,
    )
    assert counter_of(r.run(sql)) == Counter(
        {
            (at("2023-12-25 00:00:00"), "login"): 1,
            (at("2024-01-01 00:00:00"), "signup"): 4,
            (at("2024-01-01 00:00:00"), "login"): 1,
            (at("2024-01-08 00:00:00"), "login"): 2,
        }
    )


def check_bucketed_counts_in_window(r: Runner) -> None:
    sql = wsql.bucketed_counts_sql(
        r.base,
        r.dialect,
        time_column="ts",
        interval="15m",
        columns=[],
        time_from=at("2024-01-01 00:00:00"),
        time_to=at("2024-01-01 01:00:00"),
        limit=100,
    )
    assert counter_of(r.run(sql)) == Counter(
        {(at("2024-01-01 00:00:00"),): 1, (at("2024-01-01 00:15:00"),): 1, (at("2024-01-01 00:45:00"),): 1}
    )


def _top(r: Runner, *, scopes: Sequence[str], top_n: int | None, base: str | None = None) -> str:
    return wsql.top_values_sql(
        base or r.base,
        r.dialect,
        time_column="ts",
        interval="1w",
        scope_columns=[ColumnSpec(s) for s in scopes],
        value_column=ColumnSpec("country"),
        time_from=at("2023-12-01 00:00:00"),
        time_to=at("2024-02-01 00:00:00"),
        top_n=top_n,
        limit=100,
    )


W1, W2, W3 = at("2023-12-25 00:00:00"), at("2024-01-01 00:00:00"), at("2024-01-08 00:00:00")


def check_top_values_fold_the_rest_per_scope(r: Runner) -> None:
    # signup: de 2, fr 1, us 1 -> de; login: de 2, us 1, NULL 1 -> de (totals over the whole window)
    assert top_rows(r.run(_top(r, scopes=["name"], top_n=1))) == {
        (W2, "signup", "de", False, 2),
        (W2, "signup", None, True, 2),
        (W1, "login", None, True, 1),
        (W2, "login", "de", False, 1),
        (W3, "login", "de", False, 1),
        (W3, "login", None, True, 1),
    }


def check_top_values_ties_are_broken_by_value(r: Runner) -> None:
    # signup: fr beats us (same volume, smaller value); login: us beats NULL (NULL sorts last)
    assert top_rows(r.run(_top(r, scopes=["name"], top_n=2))) == {
        (W2, "signup", "de", False, 2),
        (W2, "signup", "fr", False, 1),
        (W2, "signup", None, True, 1),
        (W1, "login", None, True, 1),
        (W2, "login", "de", False, 1),
        (W3, "login", "de", False, 1),
        (W3, "login", "us", False, 1),
    }


def check_top_values_without_limit_keep_every_value(r: Runner) -> None:
    expected = python_counts(lambda row: (bucket_key("1w")(row)[0], row[1], row[2]))
    got = top_rows(r.run(_top(r, scopes=["name"], top_n=None)))
    assert got == {(*key, False, count) for key, count in expected.items()}


def check_top_values_without_scope(r: Runner) -> None:
    # overall: de 4, us 2, fr 1, NULL 1 -> de
    assert top_rows(r.run(_top(r, scopes=[], top_n=1))) == {
        (W1, None, True, 1),
        (W2, "de", False, 3),
        (W2, None, True, 2),
        (W3, "de", False, 1),
        (W3, None, True, 1),
    }


def check_top_values_are_text_cut_to_500_characters(r: Runner) -> None:
    base = "SELECT ts, name, REPEAT('x', 600) AS country FROM events"
    rows = r.run(_top(r, scopes=[], top_n=5, base=base))
    assert {row[1] for row in rows} == {"x" * wsql.MAX_VALUE_LENGTH}
    assert sum(int(row[-1]) for row in rows) == len(ROWS)


def check_json_key_paths(r: Runner) -> None:
    sql = wsql.grouped_counts_sql(r.base, r.dialect, columns=[ColumnSpec.keys_of("props")], limit=100)
    assert counter_of(r.run(sql)) == Counter(
        {
            ("ctx,ctx.os,ctx.v,plan",): 1,
            ("ctx,ctx.os,plan",): 1,
            ("plan",): 2,
            ("a",): 1,
            (None,): 3,  # NULL, an array and an empty object have no key paths
        }
    )


def check_json_values(r: Runner) -> None:
    columns = [ColumnSpec.parse(ref, ["props"]) for ref in ("props.plan", "props.ctx.os", "props.ctx.v")]
    sql = wsql.grouped_counts_sql(r.base, r.dialect, columns=columns, limit=100)
    assert counter_of(r.run(sql)) == Counter(
        {
            ("pro", "ios", "2"): 1,
            ("pro", "android", None): 1,
            ("free", None, None): 1,
            ("pro", None, None): 1,
            (None, None, None): 4,
        }
    )


def check_describe_returns_no_rows(r: Runner) -> None:
    assert r.run(wsql.describe_sql(r.base, r.dialect)) == []


def check_preview_limit_and_since(r: Runner) -> None:
    rows = r.run(
        wsql.preview_sql(r.base, r.dialect, limit=5, time_column="ts", since=at("2024-01-08 00:00:00"))
    )
    assert sorted(normalise(row[0]) for row in rows) == [at("2024-01-08 00:00:00"), at("2024-01-08 12:00:00")]
    assert len(r.run(wsql.preview_sql(r.base, r.dialect, limit=3))) == 3


CHECKS: list[Callable[[Runner], None]] = [
    check_grouped_counts,
    check_grouped_counts_window_is_half_open,
    check_grouped_counts_without_columns,
    check_grouped_counts_limit_keeps_the_largest,
    check_bucketed_counts_every_interval_matches_python_grid,
    check_weekly_buckets_start_on_monday,
    check_bucketed_counts_in_window,
    check_top_values_fold_the_rest_per_scope,
    check_top_values_ties_are_broken_by_value,
    check_top_values_without_limit_keep_every_value,
    check_top_values_without_scope,
    check_top_values_are_text_cut_to_500_characters,
    check_describe_returns_no_rows,
    check_preview_limit_and_since,
]
JSON_CHECKS: list[Callable[[Runner], None]] = [check_json_key_paths, check_json_values]


def check_ids(checks: Sequence[Callable[[Runner], None]]) -> list[str]:
    return [c.__name__.removeprefix("check_") for c in checks]
