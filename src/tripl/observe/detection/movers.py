"""Breakdown movers: the volume detector on every breakdown value's series, ranked by |z| per bucket."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from tripl.observe.detection.series import BucketPanel, TimeLike, Window, bucket_panel
from tripl.observe.detection.settings import (
    DEFAULT_SETTLING_MINUTES,
    AnomalySettings,
    Direction,
    Interval,
    ScopeOverride,
)
from tripl.observe.detection.volume import PanelDetection, detect_panel_anomalies

DEFAULT_MOVERS_LIMIT = 10


class BreakdownKey(NamedTuple):
    """One breakdown series: the column, its value, and whether it is the folded "Other" row."""

    breakdown_column: str
    breakdown_value: str
    is_other: bool = False


@dataclass(frozen=True)
class TopMover:
    """TopMoverItem of the contract."""

    breakdown_column: str
    breakdown_value: str
    is_other: bool
    actual_count: int
    expected_count: float
    stddev: float
    z_score: float
    direction: Direction


def breakdown_panel(
    rows: Iterable[tuple[str, str, bool, TimeLike, float]],
    interval: Interval,
    *,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    collected_windows: Iterable[Window] | None = None,
) -> BucketPanel[BreakdownKey]:
    """Breakdown rows (column, value, is_other, bucket, count), as stored, laid on one grid."""
    keyed = (
        (BreakdownKey(column, value, bool(other)), bucket, count)
        for column, value, other, bucket, count in rows
    )
    return bucket_panel(keyed, interval, start=start, end=end, collected_windows=collected_windows)


def detect_breakdown_anomalies(
    panel: BucketPanel[BreakdownKey],
    settings: AnomalySettings | None = None,
    *,
    overrides: Mapping[BreakdownKey, ScopeOverride] | None = None,
    now: TimeLike | None = None,
    settling_minutes: int = DEFAULT_SETTLING_MINUTES,
) -> PanelDetection[BreakdownKey]:
    """Run the volume detector on every breakdown series of a scope at once."""
    return detect_panel_anomalies(
        panel, settings, overrides=overrides, now=now, settling_minutes=settling_minutes
    )


def top_movers(
    detection: PanelDetection[BreakdownKey],
    bucket: TimeLike,
    *,
    limit: int = DEFAULT_MOVERS_LIMIT,
    exclude_columns: Collection[str] = (),
    only_anomalies: bool = True,
) -> list[TopMover]:
    """The breakdown values that moved at `bucket`, largest |z| first.

    By default only values the detector flagged (the contract's movers); with
    `only_anomalies=False` every evaluated value is ranked, which explains a total that moved
    without any single value crossing its own threshold. Pass the app-version column in
    `exclude_columns`: releases have their own regression check.
    """
    i = detection.panel.index_of(bucket)
    if i is None or not detection.keys:
        return []
    z = detection.z_score[:, i]
    candidates = detection.is_anomaly[:, i] if only_anomalies else ~np.isnan(z)
    excluded = np.array([key.breakdown_column in exclude_columns for key in detection.keys])
    rows = np.flatnonzero(candidates & ~excluded)
    rows = rows[np.argsort(-np.abs(z[rows]), kind="stable")][:limit]
    return [
        TopMover(
            breakdown_column=detection.keys[r].breakdown_column,
            breakdown_value=detection.keys[r].breakdown_value,
            is_other=detection.keys[r].is_other,
            actual_count=round(detection.panel.counts[r, i]),
            expected_count=float(detection.expected_count[r, i]),
            stddev=float(detection.stddev[r, i]),
            z_score=float(z[r]),
            direction="spike" if z[r] > 0 else "drop",
        )
        for r in rows
    ]
