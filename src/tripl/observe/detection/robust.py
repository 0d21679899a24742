"""Vectorised robust statistics over the last axis (NaN = missing)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tripl.observe.detection.series import FloatArray, IntArray

MAD_TO_SIGMA = 1.4826


def nanmedian_last(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Median over the last axis ignoring NaN, and how many finite values each median saw.

    np.nanmedian falls back to masked arrays on small axes; sorting puts NaN last, so the median
    is two gathers at positions that depend on the finite count.
    """
    ordered = np.sort(values, axis=-1)
    count = np.count_nonzero(~np.isnan(values), axis=-1)[..., None]
    middle = np.concatenate([np.maximum((count - 1) // 2, 0), np.maximum(count // 2, 0)], axis=-1)
    pair = np.take_along_axis(ordered, middle, -1)
    median = 0.5 * (pair[..., 0] + pair[..., 1])
    count = count[..., 0]
    median[count == 0] = np.nan
    return median, count.astype(np.int64)


def trimmed_mean_last(values: FloatArray, trim: float = 0.25) -> FloatArray:
    """Mean of the middle half (by default) of the finite values over the last axis; NaN if none.

    As robust as a median to a few wild values, but it still averages, so it does not collapse
    to 0 on counts of a few events the way a median does.
    """
    ordered = np.sort(values, axis=-1)
    count = np.count_nonzero(~np.isnan(values), axis=-1)[..., None]
    drop = np.floor(count * trim)
    position = np.arange(values.shape[-1])
    keep = (position >= drop) & (position < count - drop)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(keep, ordered, 0.0).sum(axis=-1) / keep.sum(axis=-1)


def trailing_median(values: FloatArray, window: int) -> tuple[FloatArray, FloatArray, IntArray]:
    """For each position j, the NaN-aware median and mean of values[..., j-window:j] (strictly before j),
    and how many values they saw."""
    pad = np.full((*values.shape[:-1], window), np.nan)
    windows = sliding_window_view(np.concatenate([pad, values], axis=-1), window, axis=-1)[
        ..., : values.shape[-1], :
    ]
    median, count = nanmedian_last(windows)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(windows, axis=-1) / count
    return median, mean, count
