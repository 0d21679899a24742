"""The volume model behind the detector, on (series, buckets) arrays.

expected = level x profile. The profile is the seasonal shape (seasonal.py); the level is the
median of the deseasonalised counts in the previous `baseline_window_buckets` collected, settled
buckets, so it follows trends and adopts a new normal once the window has filled with it.

spread = sqrt(mu + (kappa x expected)^2) + 1: Poisson noise (mu is the larger of the expected count
and the window mean, because at a few events per bucket the median is often 0 while the mean is
not), a proportional term whose kappa is fitted robustly to the series' own residuals and floored at
5 %, and one event of slack so single-digit counts never look extreme.

A bucket is flagged when |z| >= sigma, expected >= min_expected_count, the bucket has settled (a
bucket still filling can only be a spike), and the move also stands against the levels one and two
windows back. That last check is what keeps the return from an outage, or the end of a burst, from
paging as a new anomaly; a level shift is against every older level too, so it alerts for its
first buckets and stops once the recent window has adopted it.

Two passes: the second refits the profile without the buckets the first found unusual even for an
in-sample profile, so a history full of incidents cannot bend the shape the present is judged by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from tripl.observe.detection.robust import MAD_TO_SIGMA, nanmedian_last, trailing_median
from tripl.observe.detection.seasonal import DAY, MIN_SHAPE, SeasonalProfile, fit_profile
from tripl.observe.detection.series import BoolArray, FloatArray
from tripl.observe.detection.settings import AnomalySettings

KAPPA_FLOOR = 0.05
KAPPA_WITHOUT_HISTORY = 0.25
OLDER_LEVEL_LAGS = (1, 2)
# How far, as a fraction of sigma, a bucket must also sit from each older level.
OLDER_LEVEL_AGREEMENT = 0.5
# Buckets this far off even for an in-sample profile are left out of the profile's second fit. A
# modelling constant, not the alert threshold, so per-scope overrides change verdicts, not numbers.
UNUSUAL_Z = 4.0
CHUNK_SERIES = 128
IntIndex = npt.NDArray[np.int64]
A = TypeVar("A", bound=npt.NDArray[Any])


@dataclass(frozen=True)
class Fit:
    """Model output on the full grid, shape (series, buckets); NaN where a bucket was not evaluated."""

    expected: FloatArray
    stddev: FloatArray
    z: FloatArray
    flagged: BoolArray
    settled: BoolArray  # (buckets,)
    profile: SeasonalProfile
    next_level: FloatArray  # (series,) deseasonalised level for the bucket after the grid
    kappa: FloatArray  # (series,)

    @staticmethod
    def concat(parts: list[Fit]) -> Fit:
        if len(parts) == 1:
            return parts[0]
        arrays = {
            name: np.concatenate([getattr(p, name) for p in parts])
            for name in ("expected", "stddev", "z", "flagged", "next_level", "kappa")
        }
        return Fit(
            settled=parts[0].settled, profile=SeasonalProfile.concat([p.profile for p in parts]), **arrays
        )


def spread(expected: FloatArray, kappa: FloatArray | float, poisson: FloatArray | None = None) -> FloatArray:
    """Standard deviation of a count around `expected` (see the module docstring)."""
    base = expected if poisson is None else np.fmax(expected, poisson)
    with np.errstate(invalid="ignore"):
        return np.sqrt(base + (np.asarray(kappa) * expected) ** 2) + 1.0


def _kappa(resid: FloatArray, expected: FloatArray, poisson: FloatArray) -> FloatArray:
    """Per series, the kappa at which |resid| / spread has the median of |N(0, 1)|.

    |r| / sqrt(mu + kappa^2 e^2) > c exactly when kappa^2 < (r^2 / c^2 - mu) / e^2, so the kappa^2
    that puts half the residuals above c is the median of that right-hand side: no search needed.
    """
    c = 1.0 / MAD_TO_SIGMA
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(expected > 0, (resid**2 / c**2 - np.fmax(expected, poisson)) / expected**2, np.nan)
    median, n = nanmedian_last(bound)
    fitted = np.sqrt(np.maximum(np.nan_to_num(median), 0.0))
    # A MAD from few residuals is often too small; widen it by about one standard error.
    widened = fitted * (1.0 + 1.16 / np.sqrt(np.maximum(n, 1)))
    return np.where(n > 0, np.maximum(widened, KAPPA_FLOOR), KAPPA_WITHOUT_HISTORY)


def _shift(values: A, by: int, fill: float | int) -> A:
    out = np.full_like(values, fill)
    if by < values.shape[-1]:
        out[..., by:] = values[..., : values.shape[-1] - by]
    return out


def _levels(
    y: FloatArray, ok: BoolArray, seasonal: FloatArray, window: int
) -> tuple[FloatArray, FloatArray, IntIndex]:
    """Trailing median and mean of the deseasonalised counts, their history count, for each bucket
    and (last column) for the bucket after the series."""
    with np.errstate(divide="ignore", invalid="ignore"):
        deseasonalised = np.where(ok & (seasonal >= MIN_SHAPE), y / seasonal, np.nan)
    pad = np.full((y.shape[0], 1), np.nan)
    return trailing_median(np.concatenate([deseasonalised, pad], axis=1), window)


class _Evaluation(NamedTuple):
    expected: FloatArray
    stddev: FloatArray
    z: FloatArray
    flagged: BoolArray
    next_level: FloatArray
    kappa: FloatArray


def _evaluate(
    y: FloatArray,
    ok: BoolArray,
    seasonal: FloatArray,
    settings: AnomalySettings,
    thresholds: FloatArray,
) -> _Evaluation:
    """Expected, spread, z, flags, next level and kappa over the collected buckets."""
    window, min_history = settings.baseline_window_buckets, settings.effective_min_history
    sigma, min_expected = thresholds[:, :1], thresholds[:, 1:]
    level_all, mean_all, history_all = _levels(y, ok, seasonal, window)
    level, mean, history = level_all[:, :-1], mean_all[:, :-1], history_all[:, :-1]
    evaluated = history >= min_history
    expected = np.where(evaluated, level * seasonal, np.nan)
    poisson = mean * seasonal
    kappa = _kappa(np.where(evaluated & ok, y - expected, np.nan), expected, poisson)
    sd = spread(expected, kappa[:, None], poisson)
    z = (y - expected) / sd
    agrees = np.ones_like(evaluated)
    with np.errstate(invalid="ignore"):
        for lag in OLDER_LEVEL_LAGS:
            older = _shift(level, lag * window, np.nan) * seasonal
            older_z = (y - older) / spread(
                older, kappa[:, None], _shift(mean, lag * window, np.nan) * seasonal
            )
            voted = _shift(history, lag * window, 0) >= min_history
            agrees &= ~voted | (older_z * np.sign(z) >= OLDER_LEVEL_AGREEMENT * sigma)
        flagged = evaluated & (np.abs(z) >= sigma) & (expected >= min_expected) & agrees & (ok | (z > 0))
    next_level = np.where(history_all[:, -1] >= min_history, level_all[:, -1], np.nan)
    return _Evaluation(expected, sd, z, flagged, next_level, kappa)


def _unusual(y: FloatArray, ok: BoolArray, fitted: FloatArray, kappa: FloatArray, window: int) -> BoolArray:
    """Buckets unusual even against a profile fitted with them: a pattern that repeats every week is
    explained in-sample, a one-off incident is not."""
    level, mean, history = (a[:, :-1] for a in _levels(y, ok, fitted, window))
    expected = level * fitted
    with np.errstate(invalid="ignore"):
        return (history > 0) & (
            np.abs(y - expected) >= UNUSUAL_Z * spread(expected, kappa[:, None], mean * fitted)
        )


def _fit_chunk(
    counts: FloatArray,
    collected: BoolArray,
    settled: BoolArray,
    start: int,
    step: int,
    settings: AnomalySettings,
    thresholds: FloatArray,
) -> Fit:
    k, n = counts.shape
    pos: IntIndex = np.flatnonzero(collected)
    y, ok = counts[:, pos], settled[pos]
    profile_input = np.where(collected & settled, counts, np.nan)
    profile, seasonal = fit_profile(profile_input, start, step)
    first = _evaluate(y, ok, seasonal[:, pos], settings, thresholds)
    in_sample = profile.at(start + step * pos)
    unusual = np.zeros((k, n), dtype=bool)
    unusual[:, pos] = _unusual(y, ok, in_sample, first.kappa, settings.baseline_window_buckets)
    profile_input[unusual] = np.nan
    profile, seasonal = fit_profile(profile_input, start, step)
    final = _evaluate(y, ok, seasonal[:, pos], settings, thresholds)

    def full(values: A, fill: float | bool) -> A:
        out = np.full((k, n), fill, dtype=values.dtype)
        out[:, pos] = values
        return out  # type: ignore[return-value]

    return Fit(
        expected=full(final.expected, np.nan),
        stddev=full(final.stddev, np.nan),
        z=full(final.z, np.nan),
        flagged=full(final.flagged, False),
        settled=settled,
        profile=profile,
        next_level=final.next_level,
        kappa=final.kappa,
    )


def fit(
    counts: FloatArray,
    collected: BoolArray,
    start: int,
    step: int,
    settings: AnomalySettings,
    thresholds: FloatArray,
    now: int,
    settling_seconds: int,
) -> Fit:
    """Fit and evaluate (series, buckets) counts; `thresholds` holds each series' (sigma, min_expected)."""
    k, n = counts.shape
    settled = start + step * np.arange(n, dtype=np.int64) + step + settling_seconds <= now
    if k == 0 or not collected.any():
        nothing = np.full((k, n), np.nan)
        per_day = max(1, DAY // step)
        flat = SeasonalProfile(step, np.ones((k, 7, per_day)))
        return Fit(
            nothing,
            nothing,
            nothing,
            np.zeros((k, n), dtype=bool),
            settled,
            flat,
            np.full(k, np.nan),
            np.full(k, KAPPA_WITHOUT_HISTORY),
        )
    cuts = range(CHUNK_SERIES, counts.shape[0], CHUNK_SERIES)
    return Fit.concat(
        [
            _fit_chunk(chunk, collected, settled, start, step, settings, limits)
            for chunk, limits in zip(np.split(counts, cuts), np.split(thresholds, cuts), strict=True)
        ]
    )
