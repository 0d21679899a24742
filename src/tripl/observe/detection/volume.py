"""Volume anomaly detector over bucketed count series.

Model per series: expected = level x seasonal profile, where the profile is a robust
time-of-day x day-of-week shape (seasonal.py) and the level is the median of the deseasonalised
counts in the previous `baseline_window_buckets` collected buckets. Spread is Poisson noise plus a
proportional term kappa x expected, with kappa fitted robustly (MAD) to the series' own residuals
and floored at 5 %, plus one event of slack; z = (count - expected) / spread.

A bucket is flagged when |z| >= sigma, expected >= min_expected_count, and the move also stands
against the level one window earlier. That last check is what stops a recovery from an outage (or
the end of a spike burst) being flagged as a new anomaly, while a level shift still alerts for its
first buckets and then becomes the new normal once the window has filled with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic

import numpy as np
import numpy.typing as npt

from tripl.observe.detection.robust import MAD_TO_SIGMA, nanmedian_last, trailing_median
from tripl.observe.detection.seasonal import MIN_SHAPE, SeasonalProfile, fit_profile
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

KAPPA_FLOOR = 0.05
KAPPA_WITHOUT_HISTORY = 0.25
# How far the older level must also disagree, as a fraction of sigma, for a flag to stand.
OLDER_LEVEL_AGREEMENT = 0.5
CHUNK_SERIES = 256


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


@dataclass(frozen=True)
class _Result:
    expected: FloatArray
    stddev: FloatArray
    z: FloatArray
    flagged: BoolArray
    settled: BoolArray
    profile: SeasonalProfile
    next_level: FloatArray
    kappa: FloatArray


def spread(expected: FloatArray, kappa: FloatArray | float) -> FloatArray:
    """Poisson plus proportional noise, plus one event so single-digit counts never look extreme."""
    with np.errstate(invalid="ignore"):
        return np.sqrt(expected + (np.asarray(kappa) * expected) ** 2) + 1.0


def _kappa(resid: FloatArray, expected: FloatArray) -> FloatArray:
    """Per series, the kappa at which |resid| / spread has the median of |N(0, 1)|.

    |r| / sqrt(e + kappa^2 e^2) > c exactly when kappa^2 < (r^2 / c^2 - e) / e^2, so the kappa^2
    that puts half the residuals above c is the median of that right-hand side.
    """
    c = 1.0 / MAD_TO_SIGMA
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(expected > 0, (resid**2 / c**2 - expected) / expected**2, np.nan)
    median, n = nanmedian_last(bound)
    fitted = np.sqrt(np.maximum(np.nan_to_num(median), 0.0))
    # A MAD from few residuals is often too small; widen it by about one standard error.
    widened = fitted * (1.0 + 1.16 / np.sqrt(np.maximum(n, 1)))
    return np.where(n > 0, np.maximum(widened, KAPPA_FLOOR), KAPPA_WITHOUT_HISTORY)


def _shift(values: npt.NDArray[np.generic], by: int, fill: float | int) -> npt.NDArray[np.generic]:
    out = np.full_like(values, fill)
    if by < values.shape[-1]:
        out[..., by:] = values[..., : values.shape[-1] - by]
    return out


@dataclass(frozen=True)
class _Pass:
    profile: SeasonalProfile
    expected: FloatArray
    stddev: FloatArray
    z: FloatArray
    flagged: BoolArray
    unusual: BoolArray
    next_level: FloatArray
    kappa: FloatArray


def _pass(
    y: FloatArray,
    ok: BoolArray,
    profile_input: FloatArray,
    start: int,
    step: int,
    pos: npt.NDArray[np.int64],
    settings: AnomalySettings,
    thresholds: FloatArray,
) -> _Pass:
    """One fit and evaluation over the collected buckets `pos` (y, ok are already compressed to them)."""
    k = y.shape[0]
    window, min_history = settings.baseline_window_buckets, settings.effective_min_history
    sigma, min_expected = thresholds[:, :1], thresholds[:, 1:]
    profile, seasonal = fit_profile(profile_input, start, step)
    s = seasonal[:, pos]
    with np.errstate(divide="ignore", invalid="ignore"):
        deseasonalised = np.where(ok & (s >= MIN_SHAPE), y / s, np.nan)
    # One extra empty column yields the level for the bucket after the series (for forecasts).
    level, history = trailing_median(np.concatenate([deseasonalised, np.full((k, 1), np.nan)], axis=1), window)
    next_level, level, history = level[:, -1], level[:, :-1], history[:, :-1]
    evaluated = history >= min_history
    expected = np.where(evaluated, level * s, np.nan)
    resid = y - expected
    kappa = _kappa(np.where(evaluated & ok, resid, np.nan), expected)
    sd = spread(expected, kappa[:, None])
    z = resid / sd
    older_expected = _shift(level, window, np.nan) * s
    with np.errstate(invalid="ignore"):
        older_z = (y - older_expected) / spread(older_expected, kappa[:, None])
        agrees = (_shift(history, window, 0) < min_history) | (older_z * np.sign(z) >= OLDER_LEVEL_AGREEMENT * sigma)
        flagged = evaluated & (np.abs(z) >= sigma) & (expected >= min_expected) & agrees & (ok | (z > 0))
        # What the profile should not learn from: buckets unusual even for a profile fitted with them.
        fitted = level * profile.at(start + step * pos)
        unusual = evaluated & (np.abs(y - fitted) >= sigma * spread(fitted, kappa[:, None]))
    return _Pass(profile, expected, sd, z, flagged, unusual, next_level, kappa)


def _detect(
    counts: FloatArray,
    collected: BoolArray,
    start: int,
    step: int,
    settings: AnomalySettings,
    thresholds: FloatArray,
    now: int,
    settling_seconds: int,
) -> _Result:
    """`thresholds` is (k, 2): each series' sigma and min_expected_count (overrides differ per scope).

    Two passes: the second fits the seasonal profile without the buckets the first found unusual,
    so a history full of incidents cannot bend the shape the present is judged against.
    """
    k, n = counts.shape
    epochs = start + step * np.arange(n, dtype=np.int64)
    settled = epochs + step + settling_seconds <= now
    pos = np.flatnonzero(collected)
    y, ok = counts[:, pos], settled[pos]
    profile_input = np.where(collected & settled, counts, np.nan)
    first = _pass(y, ok, profile_input, start, step, pos, settings, thresholds)
    unusual = np.zeros((k, n), dtype=bool)
    unusual[:, pos] = first.unusual
    profile_input[unusual] = np.nan
    final = _pass(y, ok, profile_input, start, step, pos, settings, thresholds)

    def full(values: npt.NDArray[np.generic], fill: float | bool) -> npt.NDArray[np.generic]:
        out = np.full((k, n), fill, dtype=values.dtype)
        out[:, pos] = values
        return out

    return _Result(
        full(final.expected, np.nan),
        full(final.stddev, np.nan),
        full(final.z, np.nan),
        full(final.flagged, False),
        settled,
        final.profile,
        final.next_level,
        final.kappa,
    )


def _run(
    series: BucketSeries,
    settings: AnomalySettings,
    overrides: list[ScopeOverride | None],
    now: TimeLike | None,
    settling_minutes: int,
) -> _Result:
    counts = np.atleast_2d(series.counts)
    thresholds = np.empty((counts.shape[0], 2))
    for i, override in enumerate(overrides):
        own = effective_settings(settings, override)
        thresholds[i] = own.sigma_threshold, own.min_expected_count
    now_s = epoch_seconds(now) if now is not None else series.start + series.step * counts.shape[-1]
    cuts = range(CHUNK_SERIES, counts.shape[0], CHUNK_SERIES)
    parts = [
        _detect(chunk, series.collected, series.start, series.step, settings, limits, now_s, settling_minutes * 60)
        for chunk, limits in zip(np.split(counts, cuts), np.split(thresholds, cuts), strict=True)
    ]
    if len(parts) == 1:
        return parts[0]
    return _Result(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in ("expected", "stddev", "z", "flagged")),
        parts[0].settled,
        SeasonalProfile.concat([p.profile for p in parts]),
        np.concatenate([p.next_level for p in parts]),
        np.concatenate([p.kappa for p in parts]),
    )


@dataclass(frozen=True)
class VolumeDetection:
    """Per-bucket results of one series; arrays align with series.counts (NaN = not evaluated)."""

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
        """Buckets with enough baseline history to have an expected count."""
        return ~np.isnan(self.expected_count)

    @property
    def direction(self) -> npt.NDArray[np.int8]:
        """+1 spike, -1 drop, 0 not an anomaly."""
        return np.where(self.is_anomaly, np.sign(self.z_score), 0).astype(np.int8)

    def _point(self, i: int, epoch: int) -> VolumePoint:
        expected = self.expected_count[i]
        flagged = bool(self.is_anomaly[i])
        has = not np.isnan(expected)
        return VolumePoint(
            bucket=to_datetime(epoch),
            count=int(round(self.series.counts[i])),
            expected_count=float(expected) if has else None,
            stddev=float(self.stddev[i]) if has else None,
            z_score=float(self.z_score[i]) if has else None,
            is_anomaly=flagged,
            anomaly_direction=("spike" if self.z_score[i] > 0 else "drop") if flagged else None,
        )

    def points(self) -> list[VolumePoint]:
        """Every collected bucket (gaps are left out, as the chart shows them)."""
        epochs = self.series.epochs
        return [self._point(int(i), int(epochs[i])) for i in np.flatnonzero(self.series.collected)]

    def anomalies(self) -> list[VolumePoint]:
        epochs = self.series.epochs
        return [self._point(int(i), int(epochs[i])) for i in np.flatnonzero(self.is_anomaly)]

    def point_at(self, bucket: TimeLike) -> VolumePoint | None:
        i = self.series.index_of(bucket)
        if i is None or not self.series.collected[i]:
            return None
        return self._point(i, int(self.series.epochs[i]))


@dataclass(frozen=True)
class PanelDetection(Generic[K]):
    """Results for every series of a panel; arrays have shape (keys, buckets)."""

    panel: BucketPanel[K]
    settings: AnomalySettings
    _result: _Result

    @property
    def keys(self) -> tuple[K, ...]:
        return self.panel.keys

    @property
    def z_score(self) -> FloatArray:
        return self._result.z

    @property
    def is_anomaly(self) -> BoolArray:
        return self._result.flagged

    @property
    def expected_count(self) -> FloatArray:
        return self._result.expected

    @property
    def stddev(self) -> FloatArray:
        return self._result.stddev

    def detection(self, key: K) -> VolumeDetection:
        return _single(self.panel.series(key), self.settings, self._result, self.keys.index(key))


def _single(series: BucketSeries, settings: AnomalySettings, r: _Result, i: int) -> VolumeDetection:
    return VolumeDetection(
        series=series,
        settings=settings,
        expected_count=r.expected[i],
        stddev=r.stddev[i],
        z_score=r.z[i],
        is_anomaly=r.flagged[i],
        settled=r.settled,
        profile=r.profile.row(i),
        next_level=float(r.next_level[i]),
        kappa=float(r.kappa[i]),
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

    `now` decides which buckets have settled; by default the end of the grid, so the newest
    buckets inside the settling allowance are only ever judged as spikes.
    """
    settings = settings or AnomalySettings()
    if series.counts.ndim != 1:
        raise ValueError("detect_volume_anomalies takes one series; use detect_panel_anomalies for several")
    return _single(series, settings, _run(series, settings, [override], now, settling_minutes), 0)


def detect_panel_anomalies(
    panel: BucketPanel[K],
    settings: AnomalySettings | None = None,
    *,
    overrides: dict[K, ScopeOverride] | None = None,
    now: TimeLike | None = None,
    settling_minutes: int = DEFAULT_SETTLING_MINUTES,
) -> PanelDetection[K]:
    """The same detector on every series of a panel at once (breakdown values, all events of a scan)."""
    settings = settings or AnomalySettings()
    per_key = [(overrides or {}).get(key) for key in panel.keys]
    return PanelDetection(panel, settings, _run(panel, settings, per_key, now, settling_minutes))
