"""Forecast band and seasonality heatmap, as the charts show them."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from tripl.observe.detection import detect_volume_anomalies, forecast_volume, seasonality_heatmap

from .synth import at, hourly_mean, noisy, series, settled_now

N = 28 * 24


def test_forecast_follows_the_daily_shape_and_its_band_holds_the_next_day():
    mean = hourly_mean(29)
    counts = noisy(mean)
    detection = detect_volume_anomalies(series(counts[:N]), now=settled_now(N))
    forecast = forecast_volume(detection)
    assert [p.bucket for p in forecast] == [at(N + h) for h in range(24)]
    expected = np.array([p.expected_count for p in forecast])
    sd = np.array([p.stddev for p in forecast])
    assert np.median(np.abs(expected / mean[N:] - 1)) < 0.05
    assert np.argmax(expected) == np.argmax(mean[N:])
    assert np.mean(np.abs(counts[N:] - expected) <= 2 * sd) >= 0.9
    assert (np.diff(sd / expected) >= 0).all()  # the band fans out


def test_no_forecast_without_enough_history():
    detection = detect_volume_anomalies(series(np.full(5, 100.0)))
    assert forecast_volume(detection) == []


def test_heatmap_sums_volume_and_anomalies_by_weekday_and_hour():
    n = 14 * 24
    counts = np.ones(n)
    counts[2 * 24 + 9] = 11  # first Wednesday 09:00
    anomalies = [at(2 * 24 + 9), at(9 * 24 + 9), at(6 * 24 + 23)]
    heatmap = seasonality_heatmap([at(i) for i in range(n)], counts, anomalies)
    assert len(heatmap.cells) == 168
    cell = {(c.weekday, c.hour): c for c in heatmap.cells}
    assert cell[(2, 9)].count == 12 and cell[(2, 9)].anomaly_count == 2
    assert cell[(6, 23)].anomaly_count == 1 and cell[(0, 0)].count == 2
    assert heatmap.max_count == 12 and heatmap.total_count == n + 10


def test_heatmap_of_daily_buckets_lands_on_midnight():
    heatmap = seasonality_heatmap([at(0, timedelta(days=1)) + timedelta(days=d) for d in range(7)], [5] * 7)
    assert {(c.weekday, c.hour) for c in heatmap.cells if c.count} == {(d, 0) for d in range(7)}
