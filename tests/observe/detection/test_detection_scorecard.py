"""The labelled benchmark on a small fixed seeded set: a detector regression fails here.

bench/bench_detection.py runs the same scenarios bigger and prints the figures.
"""

from __future__ import annotations

from functools import cache

import pytest

from tripl.observe.detection.evaluation import Score, build_scenarios, score

SERIES_PER_SCENARIO = 6
RUN_EVERY = {"15m": 48, "1h": 12, "6h": 8, "1d": 14}

INCIDENT_SCENARIOS = [
    "spikes_drops",
    "outage",
    "level_shift",
    "gaps_vs_outage",
    "quarter_hour",
    "six_hour",
    "daily_interval",
]
QUIET_SCENARIOS = ["clean", "trend", "low_volume", "low_volume_ungated", "partial_newest"]


@cache
def scorecard() -> dict[str, Score]:
    scenarios = build_scenarios(seed=3, series_per_scenario=SERIES_PER_SCENARIO)
    return {s.name: score(s, seed=1, run_every=RUN_EVERY[s.interval]) for s in scenarios}


def test_every_scenario_is_scored():
    assert set(scorecard()) == {*INCIDENT_SCENARIOS, *QUIET_SCENARIOS, "contaminated_baseline"}


@pytest.mark.parametrize("name", INCIDENT_SCENARIOS)
def test_injected_incidents_are_found_without_crying_wolf(name):
    result = scorecard()[name]
    assert result.incidents >= SERIES_PER_SCENARIO
    assert result.recall >= 0.95, result
    assert result.precision >= 0.9, result
    assert result.false_per_1000 <= 1.0, result


def test_a_history_full_of_incidents_still_lets_new_ones_through():
    result = scorecard()["contaminated_baseline"]
    assert result.recall >= 0.9, result
    assert result.precision >= 0.7, result
    assert result.false_per_1000 <= 4.0, result


@pytest.mark.parametrize("name", QUIET_SCENARIOS)
def test_quiet_series_stay_quiet(name):
    # Seasonality, trends, a handful of events per hour, half-delivered newest buckets: no incidents.
    result = scorecard()[name]
    assert result.buckets >= SERIES_PER_SCENARIO * 300
    assert result.false_per_1000 <= 0.5, result
