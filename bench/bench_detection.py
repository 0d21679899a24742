"""Detection engine benchmark: labelled scorecard and speed.

    uv run python bench/bench_detection.py [--seed 7] [--series 20]

Scorecard: every scenario of tripl.observe.detection.evaluation (seeded synthetic series with
injected spikes, drops, outages, level shifts, trends, low volume, gaps, partially delivered
newest buckets), replayed as scheduled runs. Precision = alerts on injected incidents / all
alerts; recall = incidents with at least one alert in the right direction; false alerts per 1,000
evaluated buckets. Then distribution-drift noise and power, and timings.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np

from tripl.observe.detection import (
    BucketPanel,
    BucketSeries,
    VersionCount,
    bucket_panel,
    compare_releases,
    detect_distribution_drift,
    detect_panel_anomalies,
    detect_volume_anomalies,
    forecast_volume,
)
from tripl.observe.detection.evaluation import START, build_scenarios, sample_counts, score, seasonal_mean

HOUR = 3600
MONTH_HOURS = 30 * 24


def _fmt(value: float) -> str:
    return "    -" if np.isnan(value) else f"{value:5.3f}"


def scorecard(seed: int, series: int) -> None:
    print(f"Scorecard: seed {seed}, {series} series per scenario, scheduled runs as in the service")
    print(f"{'scenario':24} {'interval':>8} {'series':>6} {'buckets':>8} {'incidents':>9} "
          f"{'alerts':>6} {'precision':>9} {'recall':>6} {'false/1k':>8}")  # fmt: skip
    started = time.perf_counter()
    for scenario in build_scenarios(seed=seed, series_per_scenario=series):
        r = score(scenario, seed=seed)
        print(
            f"{r.scenario:24} {scenario.interval:>8} {r.series:6d} {r.buckets:8d} {r.incidents:9d} "
            f"{r.alerts:6d} {_fmt(r.precision):>9} {_fmt(r.recall):>6} {r.false_per_1000:8.2f}"
        )
    print(f"({time.perf_counter() - started:.1f} s)\n")


def _psi_trial(
    rng: np.random.Generator, shares: np.ndarray, shifted: np.ndarray, per_bucket: int, buckets: int
) -> tuple[int, int, int]:
    """Raw PSI >= 0.25 count, 'significant' bands on stable buckets, and on the shifted last bucket."""
    rows = []
    for b in range(buckets):
        draw = rng.multinomial(per_bucket, shifted if b == buckets - 1 else shares)
        rows += [(f"v{v}", START + b * HOUR, int(c)) for v, c in enumerate(draw) if c]
    panel = bucket_panel(((k, np.datetime64(t, "s"), c) for k, t, c in rows), "1h")
    drifts = detect_distribution_drift(panel)
    stable = drifts[:-1]
    return (
        sum(d.psi >= 0.25 for d in stable),
        sum(d.band == "significant" for d in stable),
        int(drifts[-1].band == "significant"),
    )


def distribution_noise(seed: int) -> None:
    print("Distribution drift: 'significant' on unchanged buckets vs on a real shift (10 values)")
    print(
        f"{'events/bucket':>13} {'buckets':>8} {'raw PSI>=0.25':>13} {'significant':>11} {'shift found':>11}"
    )
    rng = np.random.default_rng(seed)
    shares = np.array([0.3, 0.2, 0.12, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02])
    shifted = shares.copy()
    shifted[0], shifted[1] = 0.1, 0.4
    for per_bucket in (30, 100, 1000, 10000):
        raw = sig = found = stable_buckets = 0
        for _ in range(20):
            a, b, c = _psi_trial(rng, shares, shifted, per_bucket, 60)
            raw, sig, found, stable_buckets = raw + a, sig + b, found + c, stable_buckets + 52
        print(f"{per_bucket:13d} {stable_buckets:8d} {raw:13d} {sig:11d} {found:8d}/20")
    print()


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def _release_rows(rng: np.random.Generator) -> list[VersionCount]:
    t0 = datetime.fromtimestamp(START, UTC)
    rows = []
    for h in range(28 * 24):
        share_new = min(max((h - 20 * 24) / (8 * 24), 0.0), 1.0) * 0.6
        for version, share in (("5.0.0", 1 - share_new), ("5.1.0", share_new)):
            for e in range(200):
                count = rng.poisson(5 * share)
                if count:
                    rows.append(VersionCount("event", f"e{e}", version, t0 + timedelta(hours=h), count))
            rows.append(VersionCount("event_type", "all", version, t0 + timedelta(hours=h), 1000 * share))
    return rows


def speed(seed: int) -> None:
    print("Speed (median / best of repeated calls, this machine)")
    rng = np.random.default_rng(seed)
    means = seasonal_mean(rng, 1000, MONTH_HOURS, HOUR, np.exp(rng.uniform(np.log(50), np.log(50000), 1000)))
    counts = sample_counts(rng, means)
    one = BucketSeries(START, "1h", counts[0], np.ones(MONTH_HOURS, dtype=bool))
    median, best = _timed(lambda: detect_volume_anomalies(one), 50)
    print(f"  volume, one 30-day hourly series ({MONTH_HOURS} buckets): {median * 1e3:.2f} ms median, "
          f"{best * 1e3:.2f} ms best -> {1 / median:,.0f} series/s")  # fmt: skip
    panel = BucketPanel(START, "1h", counts, np.ones(MONTH_HOURS, dtype=bool), keys=tuple(range(1000)))
    median, _ = _timed(lambda: detect_panel_anomalies(panel), 3)
    print(
        f"  volume, panel of 1,000 such series in one call: {median * 1e3:.0f} ms"
        f" -> {1000 / median:,.0f} series/s"
    )
    detection = detect_volume_anomalies(one)
    median, _ = _timed(lambda: forecast_volume(detection), 50)
    print(f"  forecast, next 24 buckets: {median * 1e3:.2f} ms")
    shares = np.array([0.3, 0.2, 0.12, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02] * 2) / 2
    rows = [
        (f"v{v}", np.datetime64(START + h * HOUR, "s"), int(c))
        for h in range(MONTH_HOURS)
        for v, c in enumerate(rng.multinomial(2000, shares))
    ]
    values = bucket_panel(rows, "1h")
    median, _ = _timed(lambda: detect_distribution_drift(values), 10)
    print(f"  distribution drift, 20 values x {MONTH_HOURS} buckets: {median * 1e3:.1f} ms")
    release_rows = _release_rows(rng)
    median, _ = _timed(lambda: compare_releases(release_rows, "1h"), 3)
    print(
        f"  release regressions, {len(release_rows):,} version rows (200 events, 28 days):"
        f" {median * 1e3:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--series", type=int, default=20, help="series per scenario")
    args = parser.parse_args()
    scorecard(args.seed, args.series)
    distribution_noise(args.seed)
    speed(args.seed)


if __name__ == "__main__":
    main()
