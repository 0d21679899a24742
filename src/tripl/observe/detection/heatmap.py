"""Seasonality heatmap: volume and anomaly counts by weekday and UTC hour (7 x 24 cells)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tripl.observe.detection.series import TimeLike, Times, epochs, weekday_hour


@dataclass(frozen=True)
class SeasonalityCell:
    weekday: int  # 0 = Monday
    hour: int
    count: int
    anomaly_count: int


@dataclass(frozen=True)
class SeasonalityHeatmap:
    """SeasonalityHeatmapResponse without the scope identifiers: 168 cells, Monday 00h first."""

    cells: list[SeasonalityCell]
    max_count: int
    total_count: int


def _cell_index(times: Times) -> npt.NDArray[np.int64]:
    weekday, hour = weekday_hour(epochs(times))
    return weekday * 24 + hour


def seasonality_heatmap(
    buckets: Times,
    counts: Iterable[float] | npt.ArrayLike,
    anomaly_buckets: Iterable[TimeLike] = (),
) -> SeasonalityHeatmap:
    """Sum counts and count anomalies per (weekday, hour) of each bucket's start.

    Buckets longer than an hour land in the cell of their first hour. Every cell is present, empty
    ones with zeros, so the UI can draw the grid without filling holes.
    """
    values = np.asarray(counts, dtype=np.float64)
    volume = (
        np.bincount(_cell_index(buckets), weights=values, minlength=168) if values.size else np.zeros(168)
    )
    flagged = list(anomaly_buckets)
    anomalies = np.bincount(_cell_index(flagged), minlength=168) if flagged else np.zeros(168, dtype=np.int64)
    volume = np.rint(volume).astype(np.int64)
    cells = [
        SeasonalityCell(weekday=i // 24, hour=i % 24, count=int(volume[i]), anomaly_count=int(anomalies[i]))
        for i in range(168)
    ]
    return SeasonalityHeatmap(cells, int(volume.max()), int(volume.sum()))
