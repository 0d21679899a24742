"""Deterministic synthetic series for the detection tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from tripl.observe.detection import BucketSeries
from tripl.observe.detection.evaluation import START, seasonal_mean

T0 = datetime.fromtimestamp(START, UTC)  # Monday 2024-01-01 00:00 UTC
HOUR = timedelta(hours=1)


def hourly_mean(days: int, base: float = 2000.0, seed: int = 1) -> np.ndarray:
    """One series' mean counts with a daily curve and a weekend that differs in level and shape."""
    return seasonal_mean(np.random.default_rng(seed), 1, days * 24, 3600, np.array([base]))[0]


def noisy(mean: np.ndarray, seed: int = 2, noise: float = 0.04) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.poisson(mean * np.exp(rng.normal(0.0, noise, mean.shape))).astype(float)


def series(counts: np.ndarray, interval: str = "1h", collected: np.ndarray | None = None) -> BucketSeries:
    mask = np.ones(counts.shape[-1], dtype=bool) if collected is None else collected
    return BucketSeries(START, interval, np.asarray(counts, dtype=float), mask)


def at(index: int, step: timedelta = HOUR) -> datetime:
    return T0 + index * step


def settled_now(n: int, step: timedelta = HOUR) -> datetime:
    """A time at which every one of n buckets has long settled."""
    return T0 + n * step + timedelta(days=1)
