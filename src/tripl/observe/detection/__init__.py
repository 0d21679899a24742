"""Detection engine: pure, vectorised functions over bucketed counts (no I/O).

Typical wiring from the service layer:

    series = bucket_series(rows_buckets, rows_counts, "1h", start=t0, end=t1, collected_windows=jobs)
    detection = detect_volume_anomalies(series, AnomalySettings.from_object(project_settings), now=now)
    detection.anomalies()          # rows to store; detection.points() for charts
    forecast_volume(detection)     # ForecastPoint list for the chart

See evaluation.py and bench/bench_detection.py for the labelled benchmark behind the defaults.
"""

from tripl.observe.detection.distribution import (
    DistributionDrift,
    DriftMover,
    band_for,
    detect_distribution_drift,
)
from tripl.observe.detection.forecast import ForecastPoint, forecast_volume
from tripl.observe.detection.heatmap import SeasonalityCell, SeasonalityHeatmap, seasonality_heatmap
from tripl.observe.detection.movers import (
    BreakdownKey,
    TopMover,
    breakdown_panel,
    detect_breakdown_anomalies,
    top_movers,
)
from tripl.observe.detection.releases import (
    ReleaseComparison,
    ReleaseInfo,
    ReleaseRegression,
    VersionCount,
    compare_releases,
    version_key,
)
from tripl.observe.detection.series import BucketPanel, BucketSeries, bucket_panel, bucket_series
from tripl.observe.detection.settings import (
    DEFAULT_SETTLING_MINUTES,
    INTERVAL_SECONDS,
    AnomalySettings,
    Direction,
    Interval,
    ScopeOverride,
    effective_settings,
    tighten_after_false_positive,
)
from tripl.observe.detection.volume import (
    PanelDetection,
    VolumeDetection,
    VolumePoint,
    detect_panel_anomalies,
    detect_volume_anomalies,
)

__all__ = [
    "DEFAULT_SETTLING_MINUTES",
    "INTERVAL_SECONDS",
    "AnomalySettings",
    "BreakdownKey",
    "BucketPanel",
    "BucketSeries",
    "Direction",
    "DistributionDrift",
    "DriftMover",
    "ForecastPoint",
    "Interval",
    "PanelDetection",
    "ReleaseComparison",
    "ReleaseInfo",
    "ReleaseRegression",
    "ScopeOverride",
    "SeasonalityCell",
    "SeasonalityHeatmap",
    "TopMover",
    "VersionCount",
    "VolumeDetection",
    "VolumePoint",
    "band_for",
    "breakdown_panel",
    "bucket_panel",
    "bucket_series",
    "compare_releases",
    "detect_breakdown_anomalies",
    "detect_distribution_drift",
    "detect_panel_anomalies",
    "detect_volume_anomalies",
    "effective_settings",
    "forecast_volume",
    "seasonality_heatmap",
    "tighten_after_false_positive",
    "top_movers",
    "version_key",
]
