"""The time-bucket grid shared by Python and every warehouse's SQL (see `sql.bucket_expr`).

A bucket of n seconds starts at floor(epoch_seconds / n) * n, in UTC. Weekly buckets start on
Monday 00:00 UTC, i.e. the grid is shifted by four days (1970-01-01 was a Thursday).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

INTERVAL_SECONDS: dict[str, int] = {
    "15m": 15 * 60,
    "1h": 60 * 60,
    "6h": 6 * 60 * 60,
    "1d": 24 * 60 * 60,
    "1w": 7 * 24 * 60 * 60,
}
WEEK_OFFSET_SECONDS = 4 * 24 * 60 * 60  # 1970-01-05 was the first Monday after the epoch
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def interval_seconds(interval: str) -> int:
    """Length of a named interval in seconds; ValueError for an unknown name."""
    try:
        return INTERVAL_SECONDS[interval]
    except KeyError:
        known = ", ".join(INTERVAL_SECONDS)
        raise ValueError(f"Unknown interval {interval!r}; expected one of {known}") from None


def grid_offset_seconds(interval: str) -> int:
    """Where the grid of `interval` starts relative to the Unix epoch (Monday for weeks)."""
    return WEEK_OFFSET_SECONDS if interval == "1w" else 0


def as_utc(dt: datetime) -> datetime:
    """The same instant as a UTC-aware datetime; naive datetimes are taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def floor_bucket(dt: datetime, interval: str) -> datetime:
    """Start (UTC-aware) of the bucket of `interval` containing `dt`."""
    step = timedelta(seconds=interval_seconds(interval))
    origin = EPOCH + timedelta(seconds=grid_offset_seconds(interval))
    return origin + ((as_utc(dt) - origin) // step) * step


def next_bucket(dt: datetime, interval: str) -> datetime:
    """Start of the bucket after the one containing `dt`."""
    return floor_bucket(dt, interval) + timedelta(seconds=interval_seconds(interval))


def is_on_grid(dt: datetime, interval: str) -> bool:
    """Whether `dt` is exactly a bucket start of `interval`."""
    return floor_bucket(dt, interval) == as_utc(dt)


def iter_chunks(
    time_from: datetime, time_to: datetime, chunk_interval: str | timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """Split [time_from, time_to) into consecutive half-open chunks.

    A named chunk interval cuts at its own grid points (so a "1d" chunk ends at midnight UTC and
    every boundary is also on the grid of any smaller named interval); a timedelta cuts every
    `chunk_interval` from `time_from`.
    """
    start, end = as_utc(time_from), as_utc(time_to)
    if isinstance(chunk_interval, timedelta) and chunk_interval <= timedelta(0):
        raise ValueError("chunk_interval must be positive")
    while start < end:
        if isinstance(chunk_interval, timedelta):
            stop = start + chunk_interval
        else:
            stop = next_bucket(start, chunk_interval)
        stop = min(stop, end)
        yield start, stop
        start = stop
