"""Forecast of the next buckets with a band, from a fitted detection (for charts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from tripl.observe.detection.model import spread
from tripl.observe.detection.series import to_datetime
from tripl.observe.detection.volume import VolumeDetection

# One day ahead for intraday intervals, two weeks of days, two months of weeks.
DEFAULT_HORIZON = {"15m": 96, "1h": 24, "6h": 28, "1d": 14, "1w": 8}


@dataclass(frozen=True)
class ForecastPoint:
    """ForecastPoint of the contract: the expected count of a future bucket and its spread."""

    bucket: datetime
    expected_count: float
    stddev: float


def forecast_volume(detection: VolumeDetection, horizon: int | None = None) -> list[ForecastPoint]:
    """Expected counts for the buckets after the series, with a band that widens with the horizon.

    The detector's latest level times the seasonal profile, so the forecast joins the expected line
    of the chart without a step. No slope is extrapolated: on the benchmark series a slope from two
    window medians added more noise than the trends it caught. The spread is the detector's plus a
    random-walk term for the level, so the band fans out. Empty without enough history for a level.
    """
    series = detection.series
    horizon = DEFAULT_HORIZON[series.interval] if horizon is None else horizon
    if horizon <= 0 or not np.isfinite(detection.next_level):
        return []
    window = detection.settings.baseline_window_buckets
    ahead = np.arange(1, horizon + 1)
    epochs = series.start + series.step * (series.counts.shape[-1] + ahead - 1)
    expected = detection.next_level * detection.profile.at(epochs)[0]
    sd = np.sqrt(spread(expected, detection.kappa) ** 2 + (detection.kappa * expected) ** 2 * ahead / window)
    return [
        ForecastPoint(bucket=to_datetime(e), expected_count=float(x), stddev=float(s))
        for e, x, s in zip(epochs, expected, sd, strict=True)
    ]
