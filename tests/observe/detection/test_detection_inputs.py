"""Settings and grids: what the service passes in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tripl.observe.detection import (
    AnomalySettings,
    ScopeOverride,
    bucket_panel,
    bucket_series,
    effective_settings,
    tighten_after_false_positive,
)

T0 = datetime(2024, 3, 4, tzinfo=UTC)
H = timedelta(hours=1)


def test_defaults_are_the_contracts():
    s = AnomalySettings()
    assert (s.baseline_window_buckets, s.min_history_buckets, s.sigma_threshold, s.min_expected_count) == (
        14,
        7,
        4.0,
        50,
    )


@pytest.mark.parametrize(
    "field, value",
    [
        ("baseline_window_buckets", 0),
        ("min_history_buckets", 0),
        ("sigma_threshold", 0.05),
        ("min_expected_count", -1),
    ],
)
def test_values_outside_the_contract_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        AnomalySettings(**{field: value})


def test_settings_read_from_a_stored_row():
    class Row:
        baseline_window_buckets = 21
        min_history_buckets = 5
        sigma_threshold = 3.0
        min_expected_count = 10
        anomaly_detection_enabled = True

    assert AnomalySettings.from_object(Row()) == AnomalySettings(21, 5, 3.0, 10)


def test_false_positive_feedback_tightens_the_scope_step_by_step_up_to_the_caps():
    project = AnomalySettings()
    override = tighten_after_false_positive(project, None)
    assert override == ScopeOverride(sigma_threshold=4.5, min_expected_count=55)
    for _ in range(12):
        override = tighten_after_false_positive(project, override)
    assert override == ScopeOverride(sigma_threshold=10.0, min_expected_count=115)
    for _ in range(200):
        override = tighten_after_false_positive(project, override)
    assert override == ScopeOverride(sigma_threshold=10.0, min_expected_count=1000)


def test_an_override_never_makes_a_scope_louder_than_its_project():
    strict_project = AnomalySettings(sigma_threshold=6.0, min_expected_count=100)
    merged = effective_settings(strict_project, ScopeOverride(sigma_threshold=4.5, min_expected_count=55))
    assert (merged.sigma_threshold, merged.min_expected_count) == (6.0, 100)
    loose_project = AnomalySettings(sigma_threshold=3.0)
    assert effective_settings(loose_project, ScopeOverride(sigma_threshold=4.5)).sigma_threshold == 4.5


def test_sparse_rows_become_zeros_inside_collection_windows_and_gaps_outside():
    rows = [(T0, 5), (T0 + 3 * H, 7), (T0 + 3 * H, 1)]  # the warehouse omits empty buckets
    windows = [(T0, T0 + 4 * H), (T0 + 6 * H, T0 + 8 * H)]
    grid = bucket_series(
        [b for b, _ in rows], [c for _, c in rows], "1h", end=T0 + 8 * H, collected_windows=windows
    )
    assert grid.counts.tolist() == [5, 0, 0, 8, 0, 0, 0, 0]
    assert grid.collected.tolist() == [True, True, True, True, False, False, True, True]
    assert grid.buckets()[3] == T0 + 3 * H


def test_naive_timestamps_from_sqlite_are_utc_and_off_grid_buckets_are_refused():
    grid = bucket_series([T0.replace(tzinfo=None)], [4], "1h", start=T0, end=T0 + 2 * H)
    assert grid.counts.tolist() == [4, 0]
    with pytest.raises(ValueError, match="grid"):
        bucket_series([T0, T0 + timedelta(minutes=30)], [1, 1], "1h")
    with pytest.raises(ValueError, match="interval"):
        bucket_series([T0], [1], "2h")


def test_panel_pivots_rows_per_key_on_one_grid():
    rows = [("ios", T0, 3), ("android", T0 + H, 4), ("ios", T0 + 2 * H, 5)]
    panel = bucket_panel(rows, "1h", keys=["ios", "android", "web"])
    assert panel.keys == ("ios", "android", "web")
    assert panel.counts.tolist() == [[3, 0, 5], [0, 4, 0], [0, 0, 0]]
    assert np.array_equal(panel.series("android").counts, [0, 4, 0])
