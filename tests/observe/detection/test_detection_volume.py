"""Volume detector: what a user of the anomaly list and the alerts would notice."""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np
import pytest

from tripl.observe.detection import (
    AnomalySettings,
    ScopeOverride,
    bucket_series,
    detect_panel_anomalies,
    detect_volume_anomalies,
)
from tripl.observe.detection.series import BucketPanel

from .synth import START, T0, at, hourly_mean, noisy, series, settled_now

DAYS = 28
N = DAYS * 24
LAST_WEEK = N - 7 * 24


def flagged(detection, since: int = 0) -> list[int]:
    return [int(i) for i in np.flatnonzero(detection.is_anomaly) if i >= since]


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    return noisy(hourly_mean(DAYS))


def test_clean_seasonal_month_raises_nothing(clean):
    detection = detect_volume_anomalies(series(clean), now=settled_now(N))
    assert flagged(detection) == []
    assert detection.evaluated[14:].all()


def test_spike_at_saturday_night_is_the_only_flag_of_the_week(clean):
    counts = clean.copy()
    spike = LAST_WEEK + 5 * 24 + 3  # Saturday 03:00, deep in the nightly trough
    counts[spike] *= 3
    detection = detect_volume_anomalies(series(counts), now=settled_now(N))
    assert flagged(detection, LAST_WEEK) == [spike]
    point = detection.point_at(at(spike))
    assert point is not None and point.anomaly_direction == "spike" and point.is_anomaly
    assert point.expected_count == pytest.approx(clean[spike], rel=0.15)


def test_drop_at_weekday_peak_is_flagged_as_drop(clean):
    counts = clean.copy()
    drop = LAST_WEEK + 2 * 24 + 15  # Wednesday afternoon
    counts[drop] *= 0.4
    detection = detect_volume_anomalies(series(counts), now=settled_now(N))
    assert flagged(detection, LAST_WEEK) == [drop]
    assert detection.anomalies()[-1].anomaly_direction == "drop"
    assert detection.z_score[drop] <= -4


def test_earlier_incidents_do_not_blind_the_detector(clean):
    counts = clean.copy()
    # The history is littered with incidents: a burst, an outage, spikes at the same hour each week.
    counts[LAST_WEEK - 30 : LAST_WEEK - 26] *= 4
    counts[LAST_WEEK - 20 : LAST_WEEK - 14] = 0
    for week in range(3):
        counts[week * 168 + 4 * 24 + 12] *= 3
    incident = LAST_WEEK + 4 * 24 + 12  # the same Friday noon, a real one this time
    counts[incident] *= 2.5
    detection = detect_volume_anomalies(series(counts), now=settled_now(N))
    assert flagged(detection, LAST_WEEK) == [incident]
    assert detection.expected_count[incident] == pytest.approx(clean[incident], rel=0.15)


def test_outage_is_a_drop_and_the_recovery_is_not_a_spike(clean):
    counts = clean.copy()
    outage = range(LAST_WEEK + 30, LAST_WEEK + 42)  # twelve collected hours of nothing
    counts[list(outage)] = 0
    detection = detect_volume_anomalies(series(counts), now=settled_now(N))
    flags = flagged(detection, LAST_WEEK)
    assert flags and set(flags) <= set(outage)
    assert flags[0] == outage[0]
    assert all(detection.direction[i] == -1 for i in flags)


def test_level_shift_alerts_then_becomes_the_new_normal(clean):
    counts = clean.copy()
    shift = LAST_WEEK + 10
    counts[shift:] *= 1.8
    settings = AnomalySettings()
    detection = detect_volume_anomalies(series(counts), settings, now=settled_now(N))
    flags = flagged(detection)
    assert flags[0] == shift and detection.direction[shift] == 1
    assert max(flags) < shift + settings.baseline_window_buckets


def test_slow_trend_never_pages():
    mean = hourly_mean(DAYS) * np.exp(np.linspace(0, np.log(1.8), N))
    detection = detect_volume_anomalies(series(noisy(mean)), now=settled_now(N))
    assert flagged(detection) == []


def test_three_to_nine_events_is_not_an_incident_even_without_the_volume_gate():
    rng = np.random.default_rng(5)
    counts = rng.poisson(hourly_mean(DAYS, base=3.0)).astype(float)
    bumps = [LAST_WEEK + 20, LAST_WEEK + 70, LAST_WEEK + 130]
    counts[bumps] = 9
    for settings in (AnomalySettings(), AnomalySettings(min_expected_count=0)):
        assert flagged(detect_volume_anomalies(series(counts), settings, now=settled_now(N))) == []


def test_an_event_firing_about_once_an_hour_never_pages_even_without_the_volume_gate():
    counts = np.random.default_rng(8).poisson(hourly_mean(DAYS, base=1.0)).astype(float)
    assert counts.max() >= 4  # bursts of a few events happen by chance
    detection = detect_volume_anomalies(
        series(counts), AnomalySettings(min_expected_count=0), now=settled_now(N)
    )
    assert flagged(detection) == []


def test_a_few_percent_on_a_huge_smooth_series_is_not_an_incident():
    mean = hourly_mean(DAYS, base=200_000.0)
    counts = np.random.default_rng(6).poisson(mean).astype(float)  # Poisson noise only: 0.2 %
    dip = LAST_WEEK + 3 * 24 + 14
    counts[dip] *= 0.88
    detection = detect_volume_anomalies(series(counts), now=settled_now(N))
    assert flagged(detection) == []
    counts[dip] = mean[dip] * 0.6
    assert flagged(detect_volume_anomalies(series(counts), now=settled_now(N))) == [dip]


def test_uncollected_gap_is_not_a_drop_but_a_collected_zero_is():
    counts = noisy(hourly_mean(DAYS))
    gap = (LAST_WEEK + 10, LAST_WEEK + 40)
    outage = LAST_WEEK + 100
    buckets = [at(i) for i in range(N) if not gap[0] <= i < gap[1] and i != outage]
    values = [counts[i] for i in range(N) if not gap[0] <= i < gap[1] and i != outage]
    windows = [(T0, at(gap[0])), (at(gap[1]), at(N))]  # the collector was down during the gap
    grid = bucket_series(buckets, values, "1h", start=T0, end=at(N), collected_windows=windows)
    assert not grid.collected[gap[0] : gap[1]].any() and grid.collected[outage]
    detection = detect_volume_anomalies(grid, now=settled_now(N))
    assert flagged(detection) == [outage]
    shown = {p.bucket for p in detection.points()}
    assert at(gap[0]) not in shown and at(outage) in shown


def test_newest_bucket_still_filling_is_never_a_drop_until_it_settles(clean):
    counts = clean.copy()
    counts[-1] *= 0.3  # the warehouse has only delivered a third of the last hour so far
    read_at = at(N) + timedelta(minutes=5)
    assert flagged(detect_volume_anomalies(series(counts), now=read_at)) == []
    assert flagged(detect_volume_anomalies(series(counts))) == []  # default "now": the end of the grid
    # If the bucket still holds a third of its traffic hours later, that is a real drop.
    later = detect_volume_anomalies(series(counts), now=read_at + timedelta(hours=3))
    assert flagged(later) == [N - 1] and later.direction[-1] == -1


def test_newest_bucket_can_already_be_a_spike(clean):
    counts = clean.copy()
    counts[-1] *= 3
    detection = detect_volume_anomalies(series(counts), now=at(N) + timedelta(minutes=5))
    assert flagged(detection) == [N - 1] and detection.direction[-1] == 1


def test_low_expected_counts_are_gated_by_min_expected_count():
    counts = np.random.default_rng(4).poisson(40.0, N).astype(float)
    outage = LAST_WEEK + 50
    counts[outage : outage + 3] = 0
    assert flagged(detect_volume_anomalies(series(counts), now=settled_now(N))) == []
    sensitive = AnomalySettings(min_expected_count=30)
    assert flagged(detect_volume_anomalies(series(counts), sensitive, now=settled_now(N)))[0] == outage


def test_false_positive_override_quiets_only_that_scope(clean):
    counts = clean.copy()
    spike = LAST_WEEK + 3 * 24 + 13
    counts[spike] *= 1.6
    default = detect_volume_anomalies(series(counts), now=settled_now(N))
    assert spike in flagged(default)
    z = default.z_score[spike]
    quiet = detect_volume_anomalies(
        series(counts), override=ScopeOverride(sigma_threshold=z + 0.5), now=settled_now(N)
    )
    assert flagged(quiet) == []
    assert quiet.z_score[spike] == pytest.approx(z)  # the numbers stay; only the verdict changes


def test_daily_interval_with_weekly_seasonality():
    days = 140
    rng = np.random.default_rng(3)
    weekday = (np.arange(days) % 7 >= 5).astype(float)
    mean = 10000 * (1 - 0.5 * weekday)  # weekends at half volume
    counts = rng.poisson(mean * np.exp(rng.normal(0, 0.03, days))).astype(float)
    counts[days - 10] *= 0.45  # a Thursday losing half its events
    detection = detect_volume_anomalies(series(counts, "1d"), now=settled_now(days, timedelta(days=1)))
    assert flagged(detection, days - 60) == [days - 10]


def test_quarter_hour_interval_spike():
    mean = np.repeat(hourly_mean(21), 4) / 4
    counts = noisy(mean, seed=9)
    spike = len(counts) - 200
    counts[spike] *= 2.5
    detection = detect_volume_anomalies(
        series(counts, "15m"), now=settled_now(len(counts), timedelta(minutes=15))
    )
    assert flagged(detection, len(counts) - 7 * 96) == [spike]


def test_panel_gives_each_series_the_verdict_it_would_get_alone(clean):
    rows = np.stack(
        [noisy(hourly_mean(DAYS, base=b, seed=s), seed=s) for s, b in enumerate([500, 4000, 20000] * 50)]
    )
    rows[7, LAST_WEEK + 40] *= 3
    rows[130, LAST_WEEK + 90] = 0
    panel = BucketPanel(START, "1h", rows, np.ones(N, dtype=bool), keys=tuple(range(len(rows))))
    together = detect_panel_anomalies(panel, now=settled_now(N))
    for key in (0, 7, 130, 149):
        alone = detect_volume_anomalies(panel.series(key), now=settled_now(N))
        assert np.array_equal(together.is_anomaly[key], alone.is_anomaly)
        assert np.allclose(together.expected_count[key], alone.expected_count, equal_nan=True)
    found = {(key, point.bucket) for key, point in together.anomalies()}
    assert (7, at(LAST_WEEK + 40)) in found and (130, at(LAST_WEEK + 90)) in found


@pytest.mark.parametrize("interval", ["15m", "1h", "6h", "1d", "1w"])
def test_series_without_usable_history_give_no_verdicts(interval):
    # A scan that just started, or whose collection never completed: nothing to judge, no crash.
    for grid in (
        series(np.zeros(0), interval),
        series(np.full(3, 50.0), interval),
        series(np.zeros(300), interval, np.zeros(300, dtype=bool)),
    ):
        detection = detect_volume_anomalies(grid)
        assert not detection.is_anomaly.any() and not detection.evaluated.any()
    empty = BucketPanel(START, interval, np.zeros((0, 10)), np.ones(10, dtype=bool), keys=())
    assert detect_panel_anomalies(empty).anomalies() == []


def test_points_carry_the_chart_fields(clean):
    detection = detect_volume_anomalies(series(clean), now=settled_now(N))
    points = detection.points()
    assert len(points) == N
    assert points[0].expected_count is None and points[0].z_score is None  # no baseline yet
    last = points[-1]
    assert last.bucket == at(N - 1) and last.count == int(clean[-1])
    assert last.expected_count is not None and last.stddev is not None and last.stddev > 0


def test_a_month_of_hourly_buckets_is_detected_in_well_under_10_ms(clean):
    grid = series(clean)
    detect_volume_anomalies(grid)
    timings = []
    for _ in range(15):
        t = time.perf_counter()
        detect_volume_anomalies(grid)
        timings.append(time.perf_counter() - t)
    assert min(timings) < 0.010
