"""The demo warehouse: real seasonality, real incidents, the same bytes of meaning for a seed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tripl.demo.generator import DemoSummary, generate_demo_warehouse

END = datetime(2026, 11, 30, 8, 41, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate_demo_warehouse(tmp_path_factory.mktemp("wh") / "demo.duckdb", end=END)


@pytest.fixture(scope="module")
def con(demo: DemoSummary) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(demo.path), read_only=True)
    yield connection
    connection.close()


def one(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> Any:
    row = con.execute(sql, list(params)).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


CHECKSUM = """
SELECT count(*), sum(hash(event_time, event_name, event_type, platform, app_version, screen, button_id,
                          user_id, CAST(properties AS VARCHAR)))
FROM events
"""


def checksum(path: Path) -> Any:
    with duckdb.connect(str(path), read_only=True) as connection:
        return one(connection, CHECKSUM)


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path, demo: DemoSummary) -> None:
    again = generate_demo_warehouse(tmp_path / "again.duckdb", end=END)
    other = generate_demo_warehouse(tmp_path / "other.duckdb", end=END, seed=8)
    assert checksum(again.path) == checksum(demo.path)
    assert again.rows == demo.rows
    assert checksum(other.path) != checksum(demo.path)


def test_covers_every_hour_of_21_days_ending_before_the_current_hour(
    demo: DemoSummary, con: duckdb.DuckDBPyConnection
) -> None:
    assert demo.end == datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert demo.start == demo.end - timedelta(days=21)
    first, last, hours, rows = one(
        con,
        "SELECT min(event_time), max(event_time), count(DISTINCT date_trunc('hour', event_time)), count(*)"
        " FROM events",
    )
    assert naive(demo.start) <= first < naive(demo.start) + timedelta(minutes=5)
    assert naive(demo.end) - timedelta(minutes=5) < last < naive(demo.end)
    assert hours == 21 * 24
    assert rows == demo.rows
    assert 100_000 < rows < 1_000_000


def test_around_thirty_events_of_several_types_and_high_cardinality_users(
    con: duckdb.DuckDBPyConnection,
) -> None:
    events, types, platforms, users = one(
        con,
        "SELECT count(DISTINCT event_name), count(DISTINCT event_type), count(DISTINCT platform),"
        " count(DISTINCT user_id) FROM events",
    )
    assert events >= 30
    assert types >= 5
    assert platforms == 3
    assert users > 10_000
    assert one(con, "SELECT count(*) FROM events WHERE properties IS NULL OR event_name IS NULL") == 0
    nested = one(con, "SELECT count(*) FROM events WHERE properties->'payment'->>'method' IS NOT NULL")
    assert nested > 0


def test_volume_has_daily_and_weekly_seasonality(con: duckdb.DuckDBPyConnection) -> None:
    evening, night = one(
        con,
        "SELECT avg(n) FILTER (WHERE h BETWEEN 17 AND 21), avg(n) FILTER (WHERE h BETWEEN 3 AND 7) FROM ("
        "  SELECT hour(event_time) AS h, date_trunc('hour', event_time) AS b, count(*) AS n"
        "  FROM events WHERE event_name = 'home_view' GROUP BY ALL)",
    )
    assert evening > 1.8 * night
    weekend, midweek = one(
        con,
        "SELECT avg(n) FILTER (WHERE d IN (5, 6)), avg(n) FILTER (WHERE d IN (1, 2)) FROM ("
        "  SELECT isodow(event_time) - 1 AS d, date_trunc('day', event_time) AS b, count(*) AS n"
        "  FROM events WHERE event_name = 'product_view' GROUP BY ALL)",
    )
    assert weekend > 1.15 * midweek


def test_new_undocumented_event_arrives_only_in_the_last_days(
    demo: DemoSummary, con: duckdb.DuckDBPyConnection
) -> None:
    first, total = one(
        con, "SELECT min(event_time), count(*) FROM events WHERE event_name = ?", demo.new_event
    )
    assert naive(demo.new_event_since) <= first < naive(demo.new_event_since) + timedelta(hours=1)
    assert demo.end - demo.new_event_since <= timedelta(days=3)
    assert total > 100


def test_stopped_event_never_arrives_after_it_stopped(
    demo: DemoSummary, con: duckdb.DuckDBPyConnection
) -> None:
    last, before = one(
        con, "SELECT max(event_time), count(*) FROM events WHERE event_name = ?", demo.stopped_event
    )
    assert naive(demo.stopped_event_at) - timedelta(hours=2) < last < naive(demo.stopped_event_at)
    assert before > 1000


def window_count(
    con: duckdb.DuckDBPyConnection, where: str, start: datetime, end: datetime, *params: Any
) -> int:
    return int(
        one(
            con,
            f"SELECT count(*) FROM events WHERE {where} AND event_time >= ? AND event_time < ?",
            *params,
            naive(start),
            naive(end),
        )
    )


def test_drop_on_one_platform_and_spike_of_one_event(
    demo: DemoSummary, con: duckdb.DuckDBPyConnection
) -> None:
    day = timedelta(days=1)
    dropped = window_count(con, "platform = ?", demo.drop.start, demo.drop.end, demo.drop_platform)
    day_before = window_count(
        con, "platform = ?", demo.drop.start - day, demo.drop.end - day, demo.drop_platform
    )
    assert dropped < 0.35 * day_before
    other = window_count(con, "platform = 'ios'", demo.drop.start, demo.drop.end)
    other_before = window_count(con, "platform = 'ios'", demo.drop.start - day, demo.drop.end - day)
    assert other > 0.6 * other_before

    spiked = window_count(con, "event_name = ?", demo.spike.start, demo.spike.end, demo.spike_event)
    spike_before = window_count(
        con, "event_name = ?", demo.spike.start - day, demo.spike.end - day, demo.spike_event
    )
    assert spiked > 3.5 * spike_before


def test_amount_turns_from_number_to_string_with_a_release(
    demo: DemoSummary, con: duckdb.DuckDBPyConnection
) -> None:
    rows = con.execute(
        "SELECT app_version, json_type(properties->'amount') AS t, count(*), min(event_time) FROM events"
        " WHERE event_name = ? GROUP BY ALL ORDER BY 1",
        [demo.type_change_event],
    ).fetchall()
    by_version = {(version, kind): (n, first) for version, kind, n, first in rows}
    assert {kind for _, kind in by_version} == {"DOUBLE", "VARCHAR"}
    assert [key for key in by_version if key[1] == "VARCHAR"] == [(demo.type_change_version, "VARCHAR")]
    release = next(r for r in demo.releases if r.version == demo.type_change_version)
    assert by_version[(demo.type_change_version, "VARCHAR")][1] >= naive(release.released_at)
    assert demo.type_change_field == "properties.amount"


def test_releases_roll_out_gradually_on_mobile_and_at_once_on_web(
    demo: DemoSummary, con: duckdb.DuckDBPyConnection
) -> None:
    release = next(r for r in demo.releases if r.version == demo.type_change_version)
    share = (
        "SELECT avg(CASE WHEN app_version = ? THEN 1 ELSE 0 END) FROM events"
        " WHERE platform = ? AND event_time >= ? AND event_time < ?"
    )

    def share_at(platform: str, hours_after: int) -> float:
        at = release.released_at + timedelta(hours=hours_after)
        return float(one(con, share, release.version, platform, naive(at), naive(at + timedelta(hours=6))))

    assert share_at("ios", -12) == 0
    assert share_at("ios", 6) < 0.2
    assert 0.2 < share_at("ios", 42) < 0.8
    assert share_at("ios", 96) > 0.9
    assert share_at("web", 2) > 0.99


def test_refuses_a_naive_end_and_too_few_days(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone"):
        generate_demo_warehouse(tmp_path / "x.duckdb", end=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="days"):
        generate_demo_warehouse(tmp_path / "x.duckdb", end=END, days=3)
