"""Seeded synthetic benchmark for the volume detector: labelled scenarios and a scorecard.

Series look like product analytics: a daily curve whose peak hour and weekend shape vary by series,
Poisson counts on a mean with a few percent of extra multiplicative noise. Each scenario injects one
kind of trouble and labels every bucket: +1 / -1 where a spike / drop must be reported, 0 where any
alert is a false one, and IGNORE where either answer is acceptable (injections too small to pass the
min_expected_count gate, buckets never collected).

Scoring replays how the service runs: the detector is called every `run_every` buckets on the
history up to that point, with the newest buckets still filling as a warehouse delivers them, and a
bucket counts as alerted if any run flagged it while it was in that run's trailing window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tripl.observe.detection.series import BucketPanel, FloatArray, IntArray
from tripl.observe.detection.settings import (
    DEFAULT_SETTLING_MINUTES,
    INTERVAL_SECONDS,
    AnomalySettings,
    Interval,
)
from tripl.observe.detection.volume import detect_panel_anomalies

IGNORE = 2
HOUR = 3600
START = 1_704_067_200  # 2024-01-01 00:00 UTC, a Monday
TRAILING_WINDOW = 30


@dataclass
class Scenario:
    """k series on one grid with per-bucket labels and the windows of injected incidents."""

    name: str
    interval: Interval
    mean: FloatArray  # (k, n) true expected counts, before noise
    labels: IntArray  # (k, n)
    incidents: list[list[tuple[int, int, int]]]  # per series: (start, end, direction)
    collected: np.ndarray
    eval_from: int
    run_every: int
    settings: AnomalySettings = field(default_factory=AnomalySettings)
    # Fill fraction ranges of the newest, second and third newest bucket at each run.
    fill: tuple[tuple[float, float], ...] = ((0.85, 0.97), (0.95, 1.0), (0.99, 1.0))


def _daily_curve(hours: FloatArray, peak: FloatArray, width: FloatArray, trough: FloatArray) -> FloatArray:
    dist = np.abs((hours - peak + 12.0) % 24.0 - 12.0)
    return trough + (1.0 - trough) * np.exp(-0.5 * (dist / width) ** 2)


def seasonal_mean(rng: np.random.Generator, k: int, n: int, step: int, base: FloatArray) -> FloatArray:
    """Mean counts (k, n) with daily and weekly seasonality whose weekend shape differs from weekdays."""
    t = START + step * np.arange(n)
    hours = ((t % 86400) / HOUR)[None, :]
    weekend = ((((t // 86400) + 3) % 7) >= 5)[None, :]
    peak = rng.uniform(11, 20, (k, 1))
    width = rng.uniform(3, 6, (k, 1))
    trough = rng.uniform(0.08, 0.45, (k, 1))
    shift = rng.uniform(0, 3, (k, 1))
    weekend_factor = rng.uniform(0.55, 1.3, (k, 1))
    if step >= 86400:
        curve = np.ones((k, n))
    else:
        curve = np.where(
            weekend,
            _daily_curve(hours, peak + shift, width, trough),
            _daily_curve(hours, peak, width, trough),
        )
    mean = curve * np.where(weekend, weekend_factor, 1.0)
    return base[:, None] * mean / mean.mean(axis=1, keepdims=True)


def sample_counts(rng: np.random.Generator, mean: FloatArray) -> FloatArray:
    noise = rng.uniform(0.02, 0.07, (mean.shape[0], 1))
    return rng.poisson(mean * np.exp(rng.normal(0.0, noise, mean.shape))).astype(np.float64)


def _scenario(
    name: str,
    rng: np.random.Generator,
    k: int,
    days: int,
    interval: Interval = "1h",
    base: tuple[float, float] = (300.0, 20000.0),
    eval_days: int = 14,
) -> Scenario:
    """k seasonal series of `days` days; the last `eval_days` are scored."""
    step = INTERVAL_SECONDS[interval]
    n = days * 86400 // step
    levels = np.exp(rng.uniform(np.log(base[0]), np.log(base[1]), k))
    mean = seasonal_mean(rng, k, n, step, levels)
    labels = np.zeros((k, n), dtype=np.int64)
    per_day = max(1, 86400 // step)
    run_every = {"15m": 24, "1h": 6, "6h": 4, "1d": 7}[interval]
    collected = np.ones(n, dtype=bool)
    return Scenario(
        name, interval, mean, labels, [[] for _ in range(k)], collected, n - eval_days * per_day, run_every
    )


def _inject(s: Scenario, i: int, at: int, length: int, factor: float, must_report: bool = True) -> None:
    """Multiply the mean of series i over [at, at+length) and label it; too-small bases are IGNORE."""
    end = min(at + length, s.mean.shape[1])
    detectable = s.mean[i, at:end] >= 1.5 * s.settings.min_expected_count
    s.mean[i, at:end] *= factor
    direction = 1 if factor > 1 else -1
    if must_report:
        s.labels[i, at:end] = np.where(detectable, direction, IGNORE)
        if detectable.any():
            s.incidents[i].append((at, end, direction))
    else:
        s.labels[i, at:end] = IGNORE


def _random_spots(rng: np.random.Generator, s: Scenario, count: int, gap: int) -> list[int]:
    lo, hi = s.eval_from, s.mean.shape[1] - 4
    spots = np.sort(rng.choice(np.arange(lo, hi, gap), size=count, replace=False))
    return [int(x) for x in spots]


def _spikes_and_drops(s: Scenario, rng: np.random.Generator, spikes: int = 3, drops: int = 3) -> Scenario:
    for i in range(s.mean.shape[0]):
        for j, at in enumerate(_random_spots(rng, s, spikes + drops, 24)):
            factor = rng.uniform(1.8, 3.0) if j < spikes else rng.uniform(0.05, 0.45)
            _inject(s, i, at + int(rng.integers(0, 12)), int(rng.integers(1, 4)), factor)
    return s


def build_scenarios(seed: int = 7, series_per_scenario: int = 20) -> list[Scenario]:
    """The labelled scenarios of the scorecard, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    k = series_per_scenario
    out: list[Scenario] = [_scenario("clean", rng, k, 30)]
    out.append(_spikes_and_drops(_scenario("spikes_drops", rng, k, 30), rng))

    s = _scenario("outage", rng, k, 30)
    for i in range(k):
        at = int(rng.integers(s.eval_from, s.mean.shape[1] - 20))
        _inject(s, i, at, int(rng.integers(2, 17)), 0.0)
    out.append(s)

    s = _scenario("contaminated_baseline", rng, k, 30)
    for i in range(k):
        for at in range(24, s.eval_from, 24):  # history littered with anomalies, every day
            if rng.random() < 0.5:
                _inject(s, i, at + int(rng.integers(0, 24)), int(rng.integers(1, 6)),
                        float(rng.choice([0.0, 0.3, 2.5, 4.0])), must_report=False)  # fmt: skip
        for at in _random_spots(rng, s, 3, 36):  # a burst, then a real incident a few hours later
            _inject(s, i, at, int(rng.integers(3, 6)), float(rng.choice([2.5, 0.2])), must_report=False)
            _inject(s, i, at + int(rng.integers(8, 12)), 1, float(rng.choice([2.2, 0.25])))
    out.append(s)

    s = _scenario("level_shift", rng, k, 30)
    for i in range(k):
        at = int(rng.integers(s.eval_from, s.mean.shape[1] - 5 * 24))
        factor = rng.uniform(1.6, 2.2) if rng.random() < 0.5 else rng.uniform(0.35, 0.6)
        window = s.settings.baseline_window_buckets
        s.mean[i, at + window :] *= factor
        _inject(s, i, at, window, factor)
    out.append(s)

    s = _scenario("trend", rng, k, 30)
    growth = rng.choice([-1.0, 1.0], (k, 1)) * rng.uniform(0.4, 1.0, (k, 1))
    s.mean *= np.exp(growth * np.linspace(0.0, 1.0, s.mean.shape[1])[None, :])
    out.append(s)

    s = _scenario("low_volume", rng, k, 30, base=(0.2, 8.0))
    for i in range(k):  # 3 -> 9 style bumps: not incidents
        for at in _random_spots(rng, s, 6, 24):
            s.mean[i, at] *= 3.0
    out.append(s)
    ungated = _scenario("low_volume_ungated", rng, k, 30, base=(0.2, 8.0))
    ungated.settings = AnomalySettings(min_expected_count=0)
    out.append(ungated)

    s = _scenario("gaps_vs_outage", rng, k, 30)
    for at in _random_spots(rng, s, 3, 48):
        s.collected[at : at + int(rng.integers(3, 40))] = False
    s.labels[:, ~s.collected] = IGNORE
    for i in range(k):
        candidates = np.flatnonzero(s.collected[s.eval_from : -20]) + s.eval_from
        _inject(s, i, int(rng.choice(candidates)), int(rng.integers(2, 8)), 0.0)
        s.labels[i, ~s.collected] = IGNORE
    out.append(s)

    s = _scenario("partial_newest", rng, k, 30)
    s.fill = ((0.1, 0.8), (0.8, 0.97), (0.97, 1.0))
    s.run_every = 1
    out.append(s)

    out.append(
        _spikes_and_drops(_scenario("daily_interval", rng, k, 200, "1d", (500.0, 50000.0), 90), rng, 2, 2)
    )
    out.append(_spikes_and_drops(_scenario("six_hour", rng, k, 70, "6h", (1000.0, 80000.0), 28), rng, 2, 2))
    out.append(_spikes_and_drops(_scenario("quarter_hour", rng, k, 21, "15m", (2000.0, 40000.0), 7), rng))
    return out


@dataclass(frozen=True)
class Score:
    scenario: str
    series: int
    buckets: int
    alerts: int
    true_alerts: int
    false_alerts: int
    incidents: int
    incidents_found: int

    @property
    def precision(self) -> float:
        return self.true_alerts / self.alerts if self.alerts else float("nan")

    @property
    def recall(self) -> float:
        return self.incidents_found / self.incidents if self.incidents else float("nan")

    @property
    def false_per_1000(self) -> float:
        return 1000.0 * self.false_alerts / self.buckets if self.buckets else 0.0


Detector = Callable[[BucketPanel[int], int, AnomalySettings], np.ndarray]


def _default_detector(panel: BucketPanel[int], now: int, settings: AnomalySettings) -> np.ndarray:
    result = detect_panel_anomalies(panel, settings, now=np.datetime64(now, "s"))
    return np.where(result.is_anomaly, np.sign(result.z_score), 0).astype(np.int64)


def score(
    scenario: Scenario, seed: int = 0, detector: Detector = _default_detector, run_every: int | None = None
) -> Score:
    """Replay scheduled runs over the evaluation span and score every alert any run raised.

    `run_every` overrides the scenario's schedule (fewer runs make a faster, coarser replay).
    """
    rng = np.random.default_rng(seed)
    s = scenario
    every = run_every or s.run_every
    step = INTERVAL_SECONDS[s.interval]
    counts = sample_counts(rng, s.mean)
    counts[:, ~s.collected] = 0.0
    k, n = counts.shape
    alerted = np.zeros((k, n), dtype=np.int64)
    settle_buckets = -(-DEFAULT_SETTLING_MINUTES * 60 // step)
    ends = list(range(s.eval_from + every, n + 1, every))
    # A last run once everything has settled stands for the runs that would follow.
    runs = [(end, True) for end in ends if end < n] + [(n, True), (n, False)]
    for end, filling in runs:
        seen = counts[:, :end].copy()
        for back, (lo, hi) in enumerate(s.fill[: settle_buckets + 1] if filling else ()):
            seen[:, end - 1 - back] = np.floor(seen[:, end - 1 - back] * rng.uniform(lo, hi, k))
        panel = BucketPanel(START, s.interval, seen, s.collected[:end].copy(), keys=tuple(range(k)))
        now = START + end * step + (300 if filling else 86400)  # read 5 minutes after the bucket closed
        flags = detector(panel, now, s.settings)
        lo = max(s.eval_from, end - max(TRAILING_WINDOW, every + settle_buckets))
        fresh = (alerted[:, lo:end] == 0) & (flags[:, lo:end] != 0)
        alerted[:, lo:end] = np.where(fresh, flags[:, lo:end], alerted[:, lo:end])
    region = np.zeros((k, n), dtype=bool)
    region[:, s.eval_from :] = True
    scored = region & (s.labels != IGNORE) & s.collected[None, :]
    alerts = scored & (alerted != 0)
    true = alerts & (alerted == s.labels)
    found = sum(bool(np.any(alerted[i, a:b] == d)) for i in range(k) for a, b, d in s.incidents[i])
    return Score(
        scenario=s.name,
        series=k,
        buckets=int(scored.sum()),
        alerts=int(alerts.sum()),
        true_alerts=int(true.sum()),
        false_alerts=int((alerts & ~true).sum()),
        incidents=sum(len(x) for x in s.incidents),
        incidents_found=found,
    )
