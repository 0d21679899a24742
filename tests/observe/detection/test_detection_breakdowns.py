"""Breakdown movers and distribution drift."""

from __future__ import annotations

import numpy as np
import pytest

from tripl.observe.detection import (
    AnomalySettings,
    BreakdownKey,
    breakdown_panel,
    bucket_panel,
    detect_breakdown_anomalies,
    detect_distribution_drift,
    top_movers,
)

from .synth import T0, at, hourly_mean, noisy, settled_now

N = 28 * 24
PLATFORMS = {"ios": 0.45, "android": 0.35, "web": 0.15, "other": 0.05}


@pytest.fixture(scope="module")
def platform_rows():
    total = hourly_mean(28, base=4000.0)
    counts = {name: noisy(total * share, seed=i) for i, (name, share) in enumerate(PLATFORMS.items())}
    counts["ios"][N - 30] *= 0.1  # an iOS release broke tracking for an hour
    counts["web"][N - 30] *= 2.5  # while a web campaign landed
    counts["android"][N - 60] *= 3
    rows = [
        ("platform", name, name == "other", at(i), c)
        for name, series in counts.items()
        for i, c in enumerate(series)
        if c
    ]
    version = noisy(total, seed=9)
    version[N - 30] = 10
    rows += [("app_version", "5.1.0", False, at(i), c) for i, c in enumerate(version)]
    return rows


def test_movers_rank_the_values_that_moved_a_bucket_by_size(platform_rows):
    panel = breakdown_panel(platform_rows, "1h", start=T0, end=at(N))
    detection = detect_breakdown_anomalies(panel, now=settled_now(N))
    movers = top_movers(detection, at(N - 30), exclude_columns={"app_version"})
    # +150 % on web is further out than -90 % on iOS in standard deviations; the version column,
    # which also moved, is left to the release check.
    assert [(m.breakdown_value, m.direction) for m in movers] == [("web", "spike"), ("ios", "drop")]
    web, ios = movers
    assert ios.breakdown_column == "platform" and not ios.is_other
    assert ios.actual_count < 0.2 * ios.expected_count and web.z_score > -ios.z_score > 4
    assert top_movers(detection, at(N - 30), limit=1, exclude_columns={"app_version"}) == [web]
    assert "5.1.0" in [m.breakdown_value for m in top_movers(detection, at(N - 30))]
    assert [m.breakdown_value for m in top_movers(detection, at(N - 60))] == ["android"]


def test_movers_can_rank_every_value_when_none_crossed_its_threshold(platform_rows):
    panel = breakdown_panel(platform_rows, "1h", start=T0, end=at(N))
    detection = detect_breakdown_anomalies(panel, now=settled_now(N))
    quiet_bucket = at(N - 100)
    assert top_movers(detection, quiet_bucket) == []
    ranked = top_movers(detection, quiet_bucket, only_anomalies=False)
    assert len(ranked) == 5
    assert [abs(m.z_score) for m in ranked] == sorted((abs(m.z_score) for m in ranked), reverse=True)
    assert BreakdownKey("platform", "other", True) in detection.keys


def _value_rows(shares_by_bucket, totals):
    return [
        (value, at(i), round(total * share))
        for i, (shares, total) in enumerate(zip(shares_by_bucket, totals, strict=True))
        for value, share in shares.items()
        if round(total * share)
    ]


def test_a_shift_in_value_shares_is_significant_and_names_the_values():
    before = {"US": 0.5, "DE": 0.2, "FR": 0.2, "BR": 0.1}
    after = {"US": 0.1, "DE": 0.2, "FR": 0.2, "BR": 0.5}
    shares = [before] * 30 + [after]
    panel = bucket_panel(_value_rows(shares, [2000] * 31), "1h")
    drifts = detect_distribution_drift(panel)
    assert [d.band for d in drifts[:-1]] == ["stable"] * (len(drifts) - 1)
    last = drifts[-1]
    assert last.bucket == at(30) and last.band == "significant"
    assert (last.current_total, last.baseline_total) == (2000, 14 * 2000)
    assert last.psi == pytest.approx(0.4 * np.log(5) * 2, rel=1e-6)  # (0.5-0.1)ln(5) for each of US, BR
    assert {m.value for m in last.top_movers[:2]} == {"US", "BR"}
    us = next(m for m in last.top_movers if m.value == "US")
    assert (us.baseline_share, us.current_share) == (pytest.approx(0.5), pytest.approx(0.1))


def test_first_buckets_wait_for_enough_history():
    shares = [{"a": 0.5, "b": 0.5}] * 10
    drifts = detect_distribution_drift(bucket_panel(_value_rows(shares, [1000] * 10), "1h"))
    assert [d.bucket for d in drifts] == [at(i) for i in range(7, 10)]
    settings = AnomalySettings(baseline_window_buckets=3, min_history_buckets=2)
    drifts = detect_distribution_drift(bucket_panel(_value_rows(shares, [1000] * 10), "1h"), settings)
    assert drifts[0].bucket == at(2) and drifts[0].baseline_total == 2000


def test_sampling_noise_on_small_buckets_is_not_called_a_drift():
    rng = np.random.default_rng(0)
    share = np.array([0.3, 0.2, 0.12, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02])
    samples = rng.multinomial(30, share, size=300)
    rows = [(f"v{v}", at(i), int(c)) for i, row in enumerate(samples) for v, c in enumerate(row) if c]
    drifts = detect_distribution_drift(bucket_panel(rows, "1h"))
    assert sum(d.psi >= 0.25 for d in drifts) > 100  # textbook PSI bands would page on most buckets
    assert all(d.band != "significant" for d in drifts)


def test_a_new_value_appears_among_the_movers():
    shares = [{"a": 0.6, "b": 0.4}] * 20 + [{"a": 0.3, "b": 0.2, "c": 0.5}]
    drifts = detect_distribution_drift(
        bucket_panel(_value_rows(shares, [1000] * 21), "1h"), evaluate_from=at(20)
    )
    assert len(drifts) == 1 and drifts[0].band == "significant"
    new = drifts[0].top_movers[0]
    assert (new.value, new.baseline_share, new.current_share) == ("c", 0.0, pytest.approx(0.5))
