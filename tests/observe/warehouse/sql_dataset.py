"""One small events table, loaded identically into every engine the SQL builder is tested on.

Expected results are written out by hand in the tests; `python_counts` recomputes grouped
counts in Python (with `buckets.floor_bucket`) so every interval's SQL grid can be compared.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from tripl.observe.warehouse.buckets import as_utc, floor_bucket


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ts, name, country, props (JSON text or None)
ROWS: list[tuple[datetime, str, str | None, str | None]] = [
    (at("2024-01-01 00:10:00"), "signup", "de", '{"plan": "pro", "ctx": {"os": "ios", "v": 2}}'),
    (at("2024-01-01 00:20:00"), "signup", "fr", '{"plan": "free"}'),
    (at("2024-01-01 00:50:00"), "signup", "de", '{"plan": "pro", "ctx": {"os": "android"}}'),
    (at("2024-01-01 01:05:00"), "signup", "us", None),
    (at("2024-01-07 23:59:59"), "login", "de", "[1, 2]"),  # Sunday: still the week of Jan 1
    (at("2024-01-08 00:00:00"), "login", "de", "{}"),  # Monday: a new week starts
    (at("2024-01-08 12:00:00"), "login", "us", '{"a": 1}'),
    (at("2023-12-31 23:59:00"), "login", None, '{"plan": "pro"}'),  # week of Monday Dec 25
]

INTERVALS = ("15m", "1h", "6h", "1d", "1w")


def sql_text(value: str | None) -> str:
    if value is None:
        return "NULL"
    return "'" + value.replace("'", "''") + "'"


def insert_values(rows: Iterable[tuple[datetime, str, str | None, str | None]]) -> str:
    """`VALUES (...), (...)` with timestamps as 'YYYY-MM-DD HH:MM:SS' UTC text."""
    return ", ".join(
        "("
        + ", ".join([sql_text(f"{ts:%Y-%m-%d %H:%M:%S}"), sql_text(name), sql_text(country), sql_text(props)])
        + ")"
        for ts, name, country, props in rows
    )


def python_counts(
    keys: Callable[[tuple[datetime, str, str | None, str | None]], tuple[Any, ...]],
    rows: Sequence[tuple[datetime, str, str | None, str | None]] = ROWS,
) -> Counter[tuple[Any, ...]]:
    return Counter(keys(row) for row in rows)


def bucket_key(interval: str) -> Callable[[tuple[datetime, str, str | None, str | None]], tuple[Any, ...]]:
    return lambda row: (floor_bucket(row[0], interval), row[1])


def normalise(value: Any) -> Any:
    """Engine output to comparable Python: datetimes as UTC-aware, 'YYYY-MM-DD HH:MM:SS' text too."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str) and len(value) == 19 and value[4] == "-" and value[10] == " ":
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


def counter_of(rows: Iterable[Sequence[Any]]) -> Counter[tuple[Any, ...]]:
    """Result rows whose last column is a count, as a Counter keyed by the other columns."""
    result: Counter[tuple[Any, ...]] = Counter()
    for row in rows:
        *key, count = row
        result[tuple(normalise(v) for v in key)] += int(count)
    return result


def json_rows(text: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """chdb JSONEachRow output as tuples in `columns` order."""
    return [tuple(json.loads(line)[c] for c in columns) for line in text.splitlines() if line.strip()]


def top_rows(rows: Iterable[Sequence[Any]]) -> set[tuple[Any, ...]]:
    """top_values rows (bucket, *scopes, value, is_other, count) normalised to a set."""
    return {(*(normalise(v) for v in row[:-2]), bool(row[-2]), int(row[-1])) for row in rows}
