"""Volume anomaly detection: the public entry points and their results (model.py has the maths)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic

import numpy as np
import numpy.typing as npt

from tripl.observe.detection.model import Fit, fit
from tripl.observe.detection.seasonal import SeasonalProfile
from tripl.observe.detection.series import (
    BoolArray,
    BucketPanel,
    BucketSeries,
    FloatArray,
    K,
    TimeLike,
    epoch_seconds,
    to_datetime,
)
from tripl.observe.detection.settings import (
    DEFAULT_SETTLING_MINUTES,
    AnomalySettings,
    Direction,
    ScopeOverride,
    effective_settings,
)


@dataclass(frozen=True)
class VolumePoint:
    """One bucket as the metrics API shows it (EventMetricPoint field names)."""

    bucket: datetime
    count: int
    expected_count: float | None
    stddev: float | None
    z_score: float | None
    is_anomaly: bool
    anomaly_direction: Direction | None


def _point(
    grid: BucketSeries,
    counts: FloatArray,
    expected: FloatArray,
    sd: FloatArray,
    z: FloatArray,
    flagged: BoolArray,
    i: int,
) -> VolumePoint:
    has = not np.isnan(expected[i])
    return VolumePoint(
        bucket=to_datetime(grid.start + grid.step * i),
        count=round(counts[i]),
        expected_count=float(expected[i]) if has else None,
        stddev=float(sd[i]) if has else None,
        z_score=float(z[i]) if has else None,
        is_anomaly=bool(flagged[i]),
        anomaly_direction=("spike" if z[i] > 0 else "drop") if flagged[i] else None,
    )


@dataclass(frozen=True)
class VolumeDetection:
    """Per-bucket results for one series; arrays align with series.counts, NaN = not evaluated."""

    series: BucketSeries
    settings: AnomalySettings
    expected_count: FloatArray
    stddev: FloatArray
    z_score: FloatArray
    is_anomaly: BoolArray
    settled: BoolArray
    profile: SeasonalProfile
    next_level: float
    kappa: float

    @property
    def evaluated(self) -> BoolArray:
        """Collected buckets with enough baseline history to have an expected count."""
        return ~np.isnan(self.expected_count)

    @property
    def direction(self) -> npt.NDArray[np.int8]:
        """+1 spike, -1 drop, 0 not an anomaly."""
        return np.where(self.is_anomaly, np.sign(self.z_score), 0).astype(np.int8)

    def _point(self, i: int) -> VolumePoint:
        return _point(
            self.series,
            self.series.counts,
            self.expected_count,
            self.stddev,
            self.z_score,
            self.is_anomaly,
            i,
        )

    def points(self) -> list[VolumePoint]:
        """Every collected bucket, oldest first (gaps never collected are left out)."""
        return [self._point(int(i)) for i in np.flatnonzero(self.series.collected)]

    def anomalies(self) -> list[VolumePoint]:
        """The flagged buckets, oldest first: the rows the service stores as anomalies."""
        return [self._point(int(i)) for i in np.flatnonzero(self.is_anomaly)]

    def point_at(self, bucket: TimeLike) -> VolumePoint | None:
        i = self.series.index_of(bucket)
        return self._point(i) if i is not None and self.series.collected[i] else None


def _single(series: BucketSeries, settings: AnomalySettings, result: Fit, i: int) -> VolumeDetection:
    return VolumeDetection(
        series=series,
        settings=settings,
        expected_count=result.expected[i],
        stddev=result.stddev[i],
        z_score=result.z[i],
        is_anomaly=result.flagged[i],
        settled=result.settled,
        profile=result.profile.row(i),
        next_level=float(result.next_level[i]),
        kappa=float(result.kappa[i]),
    )


@dataclass(frozen=True)
class PanelDetection(Generic[K]):
    """Results for every series of a panel; arrays have shape (keys, buckets)."""

    panel: BucketPanel[K]
    settings: AnomalySettings
    result: Fit

    @property
    def keys(self) -> tuple[K, ...]:
        return self.panel.keys

    @property
    def expected_count(self) -> FloatArray:
        return self.result.expected

    @property
    def stddev(self) -> FloatArray:
        return self.result.stddev

    @property
    def z_score(self) -> FloatArray:
        return self.result.z

    @property
    def is_anomaly(self) -> BoolArray:
        return self.result.flagged

    def anomalies(self) -> list[tuple[K, VolumePoint]]:
        """Every flagged (key, bucket), by key then time: the breakdown anomaly rows to store."""
        r = self.result
        return [
            (
                self.keys[k],
                _point(self.panel, self.panel.counts[k], r.expected[k], r.stddev[k], r.z[k], r.flagged[k], i),
            )
            for k, i in zip(*(idx.tolist() for idx in np.nonzero(r.flagged)), strict=True)
        ]

    def detection(self, key: K) -> VolumeDetection:
        """The one-series view of `key`'s row."""
        return _single(self.panel.series(key), self.settings, self.result, self.keys.index(key))


def _run(
    series: BucketSeries,
    settings: AnomalySettings,
    overrides: list[ScopeOverride | None],
    now: TimeLike | None,
    settling_minutes: int,
) -> Fit:
    counts = np.atleast_2d(series.counts)
    thresholds = np.array(
        [
            (own.sigma_threshold, own.min_expected_count)
            for own in (effective_settings(settings, override) for override in overrides)
        ],
        dtype=np.float64,
    ).reshape(-1, 2)
    now_s = epoch_seconds(now) if now is not None else series.start + series.step * counts.shape[1]
    return fit(
        counts,
        series.collected,
        series.start,
        series.step,
        settings,
        thresholds,
        now_s,
        settling_minutes * 60,
    )


def detect_volume_anomalies(
    series: BucketSeries,
    settings: AnomalySettings | None = None,
    *,
    override: ScopeOverride | None = None,
    now: TimeLike | None = None,
    settling_minutes: int = DEFAULT_SETTLING_MINUTES,
) -> VolumeDetection:
    """Expected count, spread, z-score and anomaly flag for every collected bucket of one series.

    `now` decides which buckets have settled (ended at least `settling_minutes` ago); it defaults
    to the end of the grid, so the newest buckets are only ever judged as spikes until a later run.
    """
    settings = settings or AnomalySettings()
    if series.counts.ndim != 1:
        raise ValueError("detect_volume_anomalies takes one series; use detect_panel_anomalies for several")
    return _single(series, settings, _run(series, settings, [override], now, settling_minutes), 0)


def detect_panel_anomalies(
    panel: BucketPanel[K],
    settings: AnomalySettings | None = None,
    *,
    overrides: Mapping[K, ScopeOverride] | None = None,
    now: TimeLike | None = None,
    settling_minutes: int = DEFAULT_SETTLING_MINUTES,
) -> PanelDetection[K]:
    """The same detector on every series of a panel at once (breakdown values, all events of a scan)."""
    settings = settings or AnomalySettings()
    per_key = [(overrides or {}).get(key) for key in panel.keys]
    return PanelDetection(panel, settings, _run(panel, settings, per_key, now, settling_minutes))
