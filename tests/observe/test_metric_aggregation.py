"""Counting a chunk's warehouse rows into series points, on hand-made rows (no warehouse)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from tripl.observe.metrics import aggregation as agg
from tripl.observe.metrics.models import MetricScopeType, SeriesKind
from tripl.observe.scans.naming import EventIdentity

T0 = datetime(2026, 1, 5, tzinfo=UTC)
H = timedelta(hours=1)
SCAN, TYPE, EVENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def counter(source_name: str) -> agg.ChunkCounter:
    """Events named by a `name` column, all of one type; the plan has one event, `source_name`."""
    config = SimpleNamespace(event_type_column=None, event_name_format="{name}", event_group_rules=[])
    identity = EventIdentity.for_config(config, state={"columns": ["name"]})
    plan = agg.PlanIndex(
        events={(TYPE, source_name): EVENT},
        events_by_name={source_name: [(EVENT, TYPE)]},
        types_by_name={},
        default_type_id=TYPE,
    )
    return agg.ChunkCounter(agg.Resolver(identity, plan), SCAN)


def points(chunk: agg.ChunkCounter) -> dict[tuple[Any, ...], int]:
    out = chunk.points()
    return {
        (ref.kind, ref.scope.scope_type, ref.column, ref.value, ref.is_other, out.buckets[b]): c
        for ref, b, c in zip(
            (out.series[s] for s in out.series_no.tolist()),
            out.bucket_no.tolist(),
            out.count.tolist(),
            strict=True,
        )
    }


def count_rows(rows: list[tuple[Any, ...]]) -> agg.CountRows:
    """Rows (bucket, name, count)."""
    bucket, name, count = map(list, zip(*rows, strict=True))
    return agg.CountRows(bucket=bucket, identity=[name], version=None, count=count)


def breakdown_rows(
    rows: list[tuple[Any, ...]], column: str, *, top_n: int | None, for_types: bool
) -> agg.ValueRows:
    """Rows (bucket, name, value, is_other, count) of a scan-level breakdown column."""
    bucket, name, value, other, count = map(list, zip(*rows, strict=True))
    return agg.ValueRows(
        bucket=bucket, scope=[name], value=value, other=other, count=count, column=column,
        top_n=top_n, drift=False, for_types=for_types, for_all_events=True,
    )  # fmt: skip


def test_values_equal_in_python_but_rendered_apart_stay_apart() -> None:
    # 1, 1.0 and True are one dictionary key, yet a user sees "1" and "true": two events, two values.
    chunk = counter("true")
    counts = chunk.count_events(count_rows([(T0, True, 4), (T0, 1, 3), (T0, "x", 1)]), keep_releases=10)
    assert counts.matched == {T0: 4}
    assert {name: seen.count for name, seen in counts.unmatched.items()} == {"1": 3, "x": 1}
    rows = [(T0, True, 1, False, 2), (T0, True, True, False, 5), (T0, True, "1", False, 1),
            (T0, True, None, False, 1), (T0, True, {"a": [1]}, False, 1)]  # fmt: skip
    chunk.count_values(breakdown_rows(rows, "flag", top_n=None, for_types=False))
    values = {
        value: count
        for (kind, scope, _, value, _, _), count in points(chunk).items()
        if kind == SeriesKind.breakdown and scope == MetricScopeType.event
    }
    assert values == {"1": 3, "true": 5, "(null)": 1, '{"a":[1]}': 1}


def test_top_n_is_reapplied_per_scope_after_merging_and_ties_go_to_the_smaller_value() -> None:
    chunk = counter("a")
    rows = [(T0, "a", "ios", False, 3), (T0, "a", "web", False, 3), (T0 + H, "a", "android", False, 2),
            (T0 + H, "a", None, True, 4)]  # fmt: skip
    chunk.count_events(count_rows([(T0, "a", 6), (T0 + H, "a", 6)]), keep_releases=10)
    chunk.count_values(breakdown_rows(rows, "platform", top_n=1, for_types=True))
    got = {
        (scope, value, is_other, bucket): count
        for (kind, scope, _, value, is_other, bucket), count in points(chunk).items()
        if kind == SeriesKind.breakdown
    }
    # ios and web tie at 3 over the chunk: ios (the smaller) stays; web and android fold into Other.
    for scope in (MetricScopeType.event_type, MetricScopeType.event):
        assert {k[1:]: v for k, v in got.items() if k[0] == scope} == {
            ("ios", False, T0): 3,
            ("Other", True, T0): 3,
            ("Other", True, T0 + H): 6,
        }


def test_group_sums_are_exact_whether_keys_are_dense_or_sparse() -> None:
    """Sums per key come out the same from the dense count (keys close together) and from the sort
    (keys spread far apart, or counts too large for exact float sums)."""
    import numpy as np

    rng = np.random.default_rng(3)
    for spread, big in ((50, False), (10**9, False), (50, True)):
        keys = rng.integers(0, spread, 2000)
        counts = rng.integers(1, 1000, 2000) + (2**43 if big else 0)  # a sum of 2**53 or more: the sort
        expected: dict[int, int] = {}
        for key, count in zip(keys.tolist(), counts.tolist(), strict=True):
            expected[key] = expected.get(key, 0) + count
        distinct, sums = agg._group_sum(keys, counts)
        assert dict(zip(distinct.tolist(), sums.tolist(), strict=True)) == expected
        assert distinct.tolist() == sorted(expected)


def test_a_breakdown_serving_a_drift_field_stores_what_the_fields_own_rows_would() -> None:
    # Per (bucket, event, value) rows with every value kept; the field's own query would have
    # returned per (bucket, value) rows folded to its top N over the chunk.
    rows = [(T0, "a", "ios", False, 3), (T0, "b", "ios", False, 2), (T0, "a", "web", False, 4),
            (T0 + H, "b", "android", False, 1), (T0 + H, "a", None, False, 2)]  # fmt: skip
    derived = counter("a")
    whole = breakdown_rows(rows, "platform", top_n=None, for_types=False)
    derived.count_values(replace(whole, total_top_n=1))
    separate = counter("a")
    separate.count_values(whole)
    separate.count_values(
        agg.ValueRows(
            bucket=[T0, T0, T0 + H], scope=[], value=["ios", None, None], other=[False, True, True],
            count=[5, 4, 3], column="platform", top_n=1, drift=True, for_types=False,
        )
    )  # fmt: skip
    assert points(derived) == points(separate)
    total = {k[3:]: v for k, v in points(derived).items() if k[1] == MetricScopeType.project_total}
    assert total == {("ios", False, T0): 5, ("Other", True, T0): 4, ("Other", True, T0 + H): 3}
