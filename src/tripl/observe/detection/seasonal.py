"""Seasonal profile: a time-of-day shape times a day-of-week factor, estimated robustly.

The profile is multiplicative and has mean 1, so `count / profile` is a deseasonalised level. Both
factors are medians across cycles (days, weeks) of each cycle normalised by its own level, so an
outage or a spike in one cycle barely moves them, and a level shift between cycles does not either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tripl.observe.detection.robust import nanmedian_last
from tripl.observe.detection.series import FloatArray, IntArray, weekday_hour

DAY = 86400
MIN_CYCLES = 2
# Phases whose share of traffic is below this carry no usable level information.
MIN_SHAPE = 0.02


def _fold(values: FloatArray, phase0: int, period: int) -> FloatArray:
    """(k, n) -> (k, cycles, period), padding with NaN so that column p is always phase p."""
    k, n = values.shape
    cycles = -(-(phase0 + n) // period)
    out = np.full((k, cycles * period), np.nan)
    out[:, phase0 : phase0 + n] = values
    return out.reshape(k, cycles, period)


def _shape_given_levels(folded: FloatArray, levels: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where((levels > 0)[..., None], folded / levels[..., None], np.nan)
    shape, _ = nanmedian_last(np.swapaxes(ratios, 1, 2))
    shape = np.where(np.isnan(shape), 1.0, shape)
    mean = shape.mean(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, shape / mean, 1.0)


def _cycle_levels(folded: FloatArray, shape: FloatArray) -> FloatArray:
    """Level of each cycle with at least half its phases present: sum(counts) / sum(shape) over them."""
    present = ~np.isnan(folded)
    period = folded.shape[-1]
    usable = present.sum(axis=-1) * 2 >= period
    shape_mass = np.where(present, shape[:, None, :], 0.0).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        levels = np.nansum(folded, axis=-1) / shape_mass
    return np.where(usable & (shape_mass > 0), levels, np.nan)


def period_shape(folded: FloatArray) -> tuple[FloatArray, FloatArray, np.ndarray]:
    """Shape per phase (k, period), level per cycle (k, cycles), and which rows had enough cycles.

    First pass: only complete cycles, levelled by their mean. Second pass: every cycle at least half
    present, levelled against the first-pass shape (so a partial first or last day still counts).
    """
    first_levels = folded.mean(axis=-1)  # NaN unless the cycle is complete
    enough = np.count_nonzero(first_levels > 0, axis=-1) >= MIN_CYCLES
    shape = _shape_given_levels(folded, first_levels)
    shape = _shape_given_levels(folded, _cycle_levels(folded, shape))
    shape = np.where(enough[:, None], shape, 1.0)
    return shape, _cycle_levels(folded, shape), enough


def _weekday_correction(folded: FloatArray, shape: FloatArray, levels: FloatArray, first_weekday: int) -> FloatArray:
    """(k, 7, period) factors for weekday-specific day shapes (weekend mornings start later, ...).

    Each day is divided by its own level times the pooled shape; the median of those ratios over the
    same weekday of several weeks is the correction; with one week only it stays 1, since a single
    odd day would decide it.
    """
    k, days, period = folded.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = folded / (levels[..., None] * shape[:, None, :])
    ratios[~np.isfinite(ratios)] = np.nan
    weeks = -(-(first_weekday + days) // 7)
    by_weekday = np.full((k, weeks * 7, period), np.nan)
    by_weekday[:, first_weekday : first_weekday + days] = ratios
    by_weekday = by_weekday.reshape(k, weeks, 7, period).transpose(0, 2, 3, 1)
    correction, count = nanmedian_last(by_weekday)
    # From two weeks take the ratio nearer 1: a real weekday pattern shows in both weeks, while a
    # one-off anomaly shows in one only.
    pair = np.sort(by_weekday, axis=-1)[..., :2]
    nearer = np.where(np.abs(np.log(pair[..., 0])) <= np.abs(np.log(pair[..., 1])), pair[..., 0], pair[..., 1])
    correction = np.where(count >= 3, correction, np.where(count == 2, nearer, 1.0))
    weight = shape[:, None, :]
    return correction * weight.sum(-1, keepdims=True) / (correction * weight).sum(-1, keepdims=True)


@dataclass(frozen=True)
class SeasonalProfile:
    """Multiplicative profile per series: table[series, weekday (Monday=0), bucket of the day], mean 1.

    Intervals of a day or more have one bucket per day; a factor that could not be estimated (too
    few cycles) is flat.
    """

    step: int
    table: FloatArray  # (k, 7, buckets per day)

    def at(self, epochs: IntArray) -> FloatArray:
        weekday, _ = weekday_hour(epochs)
        per_day = self.table.shape[2]
        phase = (epochs % DAY) // self.step if per_day > 1 else np.zeros_like(epochs)
        return self.table[:, weekday, phase]

    def row(self, i: int) -> SeasonalProfile:
        return SeasonalProfile(self.step, self.table[i : i + 1])

    @staticmethod
    def concat(parts: list[SeasonalProfile]) -> SeasonalProfile:
        return SeasonalProfile(parts[0].step, np.concatenate([p.table for p in parts]))


def fit_profile(values: FloatArray, start: int, step: int) -> SeasonalProfile:
    """Estimate the profile of (k, n) counts (NaN = not usable) on a grid starting at `start`."""
    k = values.shape[0]
    first_weekday = int((start // DAY + 3) % 7)
    if step >= 7 * DAY:
        return SeasonalProfile(step, np.ones((k, 7, 1)))
    if step >= DAY:
        week_shape, _, _ = period_shape(_fold(values, first_weekday, 7))
        return SeasonalProfile(step, week_shape[:, :, None])
    folded = _fold(values, int((start % DAY) // step), DAY // step)
    day_shape, day_levels, _ = period_shape(folded)
    week_shape, _, _ = period_shape(_fold(day_levels, first_weekday, 7))
    correction = _weekday_correction(folded, day_shape, day_levels, first_weekday)
    table = day_shape[:, None, :] * week_shape[:, :, None] * correction
    return SeasonalProfile(step, table / table.mean(axis=(1, 2), keepdims=True))
