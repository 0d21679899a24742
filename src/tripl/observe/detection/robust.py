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
    count = np.count_nonzero(~np.isnan(values), axis=-1)
    lo = np.maximum((count - 1) // 2, 0)[..., None]
    hi = np.maximum(count // 2, 0)[..., None]
    with np.errstate(invalid="ignore"):
        median = 0.5 * (np.take_along_axis(ordered, lo, -1) + np.take_along_axis(ordered, hi, -1))[..., 0]
    median[count == 0] = np.nan
    return median, count.astype(np.int64)


def trailing_median(values: FloatArray, window: int) -> tuple[FloatArray, IntArray]:
    """For each position j, the NaN-aware median of values[..., j-window:j] (strictly before j)."""
    pad = np.full((*values.shape[:-1], window), np.nan)
    windows = sliding_window_view(np.concatenate([pad, values], axis=-1), window, axis=-1)
    return nanmedian_last(windows[..., : values.shape[-1], :])
