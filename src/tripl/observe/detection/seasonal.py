"""Seasonal profile: a pooled time-of-day shape refined per weekday, estimated robustly.

1. The day shape is the mean of the middle half, over days, of each day divided by its own level:
   many cycles, so one odd day (outage, spike) barely moves it and level changes between days do
   not either, and unlike a median it does not collapse to 0 on a few events per bucket.
2. Each bucket is then divided by the day shape and by a local weekly level (centred 7-day median
   of day levels). That ratio, taken per (weekday, bucket of day) across weeks, holds the weekday
   effect and weekday-specific shapes (weekend mornings start later, Friday evenings run late).
3. A bucket's weekday factor is the median of that ratio over the *other* weeks. Leaving its own
   week out keeps an anomaly from explaining itself, and keeps the residuals honest: an in-sample
   fit from two or three weeks would look far more precise than it is. For the shape within the
   day, with fewer than three other weeks a neutral 1 joins the median, so two weeks that agree
   win and one odd week cannot; the factor is then smoothed over neighbouring hours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tripl.observe.detection.robust import nanmedian_last, trimmed_mean_last
from tripl.observe.detection.series import FloatArray, IntArray, weekday_hour

DAY = 86400
MIN_CYCLES = 2
MIN_WEEKS_WITHOUT_PRIOR = 3
# Phases whose share of traffic is below this carry no usable level information.
MIN_SHAPE = 0.02


def _fold(values: FloatArray, phase0: int, period: int) -> FloatArray:
    """(k, n) -> (k, cycles, period), padding with NaN so that column p is always phase p."""
    k, n = values.shape
    cycles = -(-(phase0 + n) // period)
    out = np.full((k, cycles * period), np.nan)
    out[:, phase0 : phase0 + n] = values
    return out.reshape(k, cycles, period)


def _unfold(folded: FloatArray, phase0: int, n: int) -> FloatArray:
    return folded.reshape(folded.shape[0], -1)[:, phase0 : phase0 + n]


def _shape_given_levels(folded: FloatArray, levels: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where((levels > 0)[..., None], folded / levels[..., None], np.nan)
    shape = trimmed_mean_last(np.swapaxes(ratios, 1, 2))
    shape = np.where(np.isnan(shape), 1.0, shape)
    mean = shape.mean(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, shape / mean, 1.0)


def _cycle_levels(folded: FloatArray, shape: FloatArray) -> FloatArray:
    """Level of each cycle with at least half its phases present: sum(counts) / sum(shape) over them."""
    present = ~np.isnan(folded)
    usable = present.sum(axis=-1) * 2 >= folded.shape[-1]
    shape_mass = np.where(present, shape[:, None, :], 0.0).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        levels = np.nansum(folded, axis=-1) / shape_mass
    return np.where(usable & (shape_mass > 0), levels, np.nan)


def day_shape(folded: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Shape per bucket of the day (k, period), flat without two complete days, and each day's level.

    First pass: complete days levelled by their mean. Second pass: every day at least half present,
    levelled against the first-pass shape (so a partial first or last day still counts).
    """
    first_levels = folded.mean(axis=-1)  # NaN unless the day is complete
    enough = np.count_nonzero(first_levels > 0, axis=-1) >= MIN_CYCLES
    shape = _shape_given_levels(folded, first_levels)
    shape = _shape_given_levels(folded, _cycle_levels(folded, shape))
    shape = np.where(enough[:, None], shape, 1.0)
    return shape, _cycle_levels(folded, shape)


def _weekly_level(day_levels: FloatArray) -> FloatArray:
    """Centred 7-day median of day levels (needs 4 of the 7), following trends but not weekdays."""
    edge = np.full((day_levels.shape[0], 3), np.nan)
    padded = np.concatenate([edge, day_levels, edge], axis=1)
    median, count = nanmedian_last(sliding_window_view(padded, 7, axis=-1))
    return np.where(count >= 4, median, np.nan)


def _median_others(ordered: FloatArray, count: IntArray, rank: IntArray, prior: np.ndarray) -> FloatArray:
    """Median of the sorted finite values except the one at `rank` (none if rank >= count); 1 if empty.

    Where `prior` is set, fewer than MIN_WEEKS_WITHOUT_PRIOR values get a neutral 1 added first.
    """
    left = count - (rank < count)
    positions = [
        np.maximum((left - 1) // 2, 0),
        np.maximum(left // 2, 0),
        np.zeros_like(rank),
        np.ones_like(rank),
    ]
    index = np.concatenate([p + (p >= rank) for p in positions], axis=-1)
    index = np.minimum(index, ordered.shape[-1] - 1)
    lo, hi, first, second = np.split(np.take_along_axis(ordered, index, -1), 4, axis=-1)
    median = 0.5 * (lo + hi)
    of_two = np.clip(1.0, np.minimum(first, second), np.maximum(first, second))
    with_prior = np.where(
        left >= MIN_WEEKS_WITHOUT_PRIOR, median, np.where(left == 2, of_two, 0.5 * (first + 1.0))
    )
    return np.where(left > 0, np.where(prior, with_prior, median), 1.0)


def weekday_factors(ratios: FloatArray, prior: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """From (..., weeks) ratios: each week's factor from the other weeks, and one from all weeks."""
    weeks = ratios.shape[-1]
    order = np.argsort(ratios, axis=-1)  # NaN sorts last
    ordered = np.take_along_axis(ratios, order, -1)
    count = np.count_nonzero(~np.isnan(ratios), axis=-1)[..., None]
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(weeks), order.shape), -1)
    # An extra column that excludes nothing gives the all-weeks factor in the same pass.
    rank = np.concatenate([np.where(np.isnan(ratios), weeks, rank), np.full_like(count, weeks)], axis=-1)
    factors = _median_others(ordered, count, rank, prior)
    return factors[..., :weeks], factors[..., weeks]


def _smooth_phases(factors: FloatArray) -> FloatArray:
    """[1, 2, 1] / 4 over neighbouring buckets of the day (axis 2), circularly, for hourly or finer.

    Weekday-specific shapes are smooth in time of day, but each phase is estimated from a handful
    of weeks; averaging neighbours cuts that noise by a third at little cost in detail. Coarser
    buckets are too far apart for their neighbours to say much.
    """
    if factors.shape[2] < 24:
        return factors
    return 0.25 * (np.roll(factors, 1, axis=2) + 2.0 * factors + np.roll(factors, -1, axis=2))


def _by_weekday(per_day: FloatArray, first_weekday: int) -> FloatArray:
    """(k, days, p) -> (k, 7, p, weeks), weeks starting on Monday."""
    k, _, p = per_day.shape
    weeks = _fold(per_day.reshape(k, -1), first_weekday * p, 7 * p).reshape(k, -1, 7, p)
    return weeks.transpose(0, 2, 3, 1)


def _per_day(by_weekday: FloatArray, first_weekday: int, days: int) -> FloatArray:
    """Inverse of _by_weekday."""
    k, _, p, _ = by_weekday.shape
    flat = _unfold(by_weekday.transpose(0, 3, 1, 2), first_weekday * p, days * p)
    return flat.reshape(k, days, p)


@dataclass(frozen=True)
class SeasonalProfile:
    """Multiplicative profile per series: table[series, weekday (Monday=0), bucket of the day].

    Intervals of a day or more have one bucket per day; weekly intervals have a flat profile.
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


def fit_profile(values: FloatArray, start: int, step: int) -> tuple[SeasonalProfile, FloatArray]:
    """Profile of (k, n) counts (NaN = not usable) on a grid from `start`, and its value per bucket.

    The per-bucket values leave each bucket's own week out (see the module docstring); the returned
    profile uses every week and serves forecasts.
    """
    k, n = values.shape
    if step >= 7 * DAY:
        return SeasonalProfile(step, np.ones((k, 7, 1))), np.ones((k, n))
    per_day = max(1, DAY // step)
    phase0 = int((start % DAY) // step) if per_day > 1 else 0
    days = _fold(values, phase0, per_day)
    shape, day_levels = day_shape(days) if per_day > 1 else (np.ones((k, 1)), days[..., 0])
    first_weekday = int((start // DAY + 3) % 7)
    with np.errstate(divide="ignore", invalid="ignore"):
        day_factor = day_levels / _weekly_level(day_levels)
        within_day = days / (day_levels[..., None] * shape[:, None, :])
    day_factor[~np.isfinite(day_factor)] = np.nan
    within_day[~np.isfinite(within_day)] = np.nan
    # Day levels are sums over a whole day, robust enough to trust from a single week; the shape
    # within a day is not, so it leans on the pooled shape until three weeks agree.
    both = np.concatenate(
        [_by_weekday(day_factor[..., None], first_weekday), _by_weekday(within_day, first_weekday)], axis=2
    )
    prior = np.arange(per_day + 1)[:, None] > 0
    own_out, all_weeks = weekday_factors(both, prior)
    level_out, shape_out = own_out[:, :, :1], _smooth_phases(own_out[:, :, 1:])
    level_all, shape_all = all_weeks[:, :, :1], _smooth_phases(all_weeks[:, :, 1:])
    n_days = days.shape[1]
    own_week_out = _per_day(level_out, first_weekday, n_days) * _per_day(shape_out, first_weekday, n_days)
    per_bucket = _unfold(own_week_out * shape[:, None, :], phase0, n)
    return SeasonalProfile(step, level_all * shape_all * shape[:, None, :]), per_bucket
