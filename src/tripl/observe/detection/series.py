"""Regular bucket grids built from the sparse rows SQL returns.

Metric tables only hold buckets that had events, so a missing row is ambiguous: a real zero (the
bucket was collected and nothing arrived — an outage) or a bucket nobody collected. The collection
windows settle it: inside a completed window a missing row is a zero, outside it is a gap.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from tripl.observe.detection.settings import Interval, interval_seconds

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

TimeLike = datetime | np.datetime64
Times = Sequence[datetime | np.datetime64] | npt.NDArray[np.datetime64]
Window = tuple[TimeLike, TimeLike]

K = TypeVar("K", bound=Hashable)


def epoch_seconds(value: TimeLike) -> int:
    """Seconds since the Unix epoch; naive datetimes are read as UTC (SQLite drops the zone)."""
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[s]").astype(np.int64))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def epochs(values: Times) -> IntArray:
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return values.astype("datetime64[s]").astype(np.int64)
    return np.fromiter((epoch_seconds(v) for v in values), dtype=np.int64, count=len(values))


def to_datetime(epoch: int | np.integer) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)


def weekday_hour(epoch_values: IntArray) -> tuple[IntArray, IntArray]:
    """Weekday (Monday=0) and UTC hour of each epoch second."""
    days = np.floor_divide(epoch_values, 86400)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    hour = (epoch_values - days * 86400) // 3600
    return weekday, hour


@dataclass(frozen=True)
class BucketSeries:
    """One count series on a regular grid: counts[i] belongs to bucket start + i * interval."""

    start: int
    interval: Interval
    counts: FloatArray
    collected: BoolArray

    @property
    def step(self) -> int:
        return interval_seconds(self.interval)

    @property
    def epochs(self) -> IntArray:
        return self.start + self.step * np.arange(self.counts.shape[-1], dtype=np.int64)

    def buckets(self) -> list[datetime]:
        return [to_datetime(e) for e in self.epochs]

    def index_of(self, bucket: TimeLike) -> int | None:
        offset = epoch_seconds(bucket) - self.start
        if offset % self.step or not 0 <= offset // self.step < self.counts.shape[-1]:
            return None
        return offset // self.step


@dataclass(frozen=True)
class BucketPanel(BucketSeries, Generic[K]):
    """Several series on one grid (breakdown values, events of one scan); counts has shape (keys, buckets)."""

    keys: tuple[K, ...] = ()

    def series(self, key: K) -> BucketSeries:
        return BucketSeries(self.start, self.interval, self.counts[self.keys.index(key)], self.collected)


def _grid_bounds(times: IntArray, step: int, start: TimeLike | None, end: TimeLike | None) -> tuple[int, int]:
    if start is not None:
        first = epoch_seconds(start)
    elif times.size:
        first = int(times.min())
    else:
        raise ValueError("an empty series needs an explicit start")
    if end is not None:
        n = max(0, -(-(epoch_seconds(end) - first) // step))
    elif times.size:
        n = int((times.max() - first) // step) + 1
    else:
        n = 0
    return first, n


def _collected_mask(
    first: int, n: int, step: int, windows: Iterable[Window] | None, present: IntArray
) -> BoolArray:
    if windows is None:
        return np.ones(n, dtype=bool)
    starts = first + step * np.arange(n, dtype=np.int64)
    mask = np.zeros(n, dtype=bool)
    for lo, hi in windows:
        mask |= (starts >= epoch_seconds(lo)) & (starts + step <= epoch_seconds(hi))
    mask[present] = True  # a stored row proves the bucket was collected
    return mask


def _grid_index(times: IntArray, first: int, step: int, n: int) -> tuple[IntArray, BoolArray]:
    offset = times - first
    if np.any(offset % step):
        raise ValueError("bucket times are not on the interval grid")
    idx = offset // step
    return idx, (idx >= 0) & (idx < n)


def bucket_series(
    buckets: Times,
    counts: Sequence[float] | npt.ArrayLike,
    interval: Interval,
    *,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    collected_windows: Iterable[Window] | None = None,
) -> BucketSeries:
    """Lay sparse (bucket, count) rows on the regular grid [start, end).

    `collected_windows` are the [from, to) windows of completed collection runs; buckets fully inside
    one (or holding a row) are collected, the rest are gaps. Without windows every bucket in range is
    taken as collected. Rows outside [start, end) are ignored; repeated buckets are summed.
    """
    step = interval_seconds(interval)
    times = epochs(buckets)
    values = np.asarray(counts, dtype=np.float64)
    if values.shape != times.shape:
        raise ValueError("buckets and counts differ in length")
    first, n = _grid_bounds(times, step, start, end)
    idx, inside = _grid_index(times, first, step, n)
    grid = np.zeros(n, dtype=np.float64)
    np.add.at(grid, idx[inside], values[inside])
    collected = _collected_mask(first, n, step, collected_windows, idx[inside])
    return BucketSeries(first, interval, grid, collected)


def bucket_panel(
    rows: Iterable[tuple[K, TimeLike, float]],
    interval: Interval,
    *,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    collected_windows: Iterable[Window] | None = None,
    keys: Sequence[K] | None = None,
) -> BucketPanel[K]:
    """Pivot (key, bucket, count) rows into one grid row per key, keys in first-seen order.

    `keys` fixes the rows (keys without data get zeros, rows of other keys are ignored). The
    collected mask is shared: collection covers a whole scan, not one key.
    """
    row_keys: list[K] = []
    row_times: list[int] = []
    row_counts: list[float] = []
    for key, bucket, count in rows:
        row_keys.append(key)
        row_times.append(epoch_seconds(bucket))
        row_counts.append(float(count))
    order: dict[K, int] = {k: i for i, k in enumerate(keys)} if keys is not None else {}
    if keys is None:
        for key in row_keys:
            order.setdefault(key, len(order))
    step = interval_seconds(interval)
    times = np.asarray(row_times, dtype=np.int64)
    first, n = _grid_bounds(times, step, start, end)
    idx, inside = _grid_index(times, first, step, n)
    key_idx = np.fromiter((order.get(k, -1) for k in row_keys), dtype=np.int64, count=len(row_keys))
    inside &= key_idx >= 0
    grid = np.zeros((len(order), n), dtype=np.float64)
    np.add.at(grid, (key_idx[inside], idx[inside]), np.asarray(row_counts, dtype=np.float64)[inside])
    collected = _collected_mask(first, n, step, collected_windows, idx[inside])
    return BucketPanel(first, interval, grid, collected, keys=tuple(order))
