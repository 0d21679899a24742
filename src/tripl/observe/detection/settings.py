"""Anomaly settings as the contract names them, and per-scope overrides from false-positive feedback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Interval = Literal["15m", "1h", "6h", "1d", "1w"]
Direction = Literal["spike", "drop"]

INTERVAL_SECONDS: dict[str, int] = {"15m": 900, "1h": 3600, "6h": 21600, "1d": 86400, "1w": 604800}

# The later reference's `anomaly_ingestion_settling_minutes`: warehouses keep filling a bucket for a
# while after it closes, so the newest buckets are not judged as drops until this has passed.
DEFAULT_SETTLING_MINUTES = 120

FALSE_POSITIVE_SIGMA_STEP = 0.5
FALSE_POSITIVE_SIGMA_CAP = 10.0
FALSE_POSITIVE_MIN_EXPECTED_STEP = 5
FALSE_POSITIVE_MIN_EXPECTED_CAP = 1000


@dataclass(frozen=True, slots=True)
class AnomalySettings:
    """The detector knobs of the project's anomaly settings (contract defaults)."""

    baseline_window_buckets: int = 14
    min_history_buckets: int = 7
    sigma_threshold: float = 4.0
    min_expected_count: int = 50

    def __post_init__(self) -> None:
        if self.baseline_window_buckets < 1:
            raise ValueError("baseline_window_buckets must be >= 1")
        if self.min_history_buckets < 1:
            raise ValueError("min_history_buckets must be >= 1")
        if self.sigma_threshold < 0.1:
            raise ValueError("sigma_threshold must be >= 0.1")
        if self.min_expected_count < 0:
            raise ValueError("min_expected_count must be >= 0")

    @classmethod
    def from_object(cls, obj: Any) -> AnomalySettings:
        """Read the four fields from any object carrying them (ORM row, Pydantic model)."""
        return cls(
            baseline_window_buckets=int(obj.baseline_window_buckets),
            min_history_buckets=int(obj.min_history_buckets),
            sigma_threshold=float(obj.sigma_threshold),
            min_expected_count=int(obj.min_expected_count),
        )

    @property
    def effective_min_history(self) -> int:
        # A history requirement longer than the window could never be met.
        return min(self.min_history_buckets, self.baseline_window_buckets)


@dataclass(frozen=True, slots=True)
class ScopeOverride:
    """Per-scope thresholds learnt from false-positive feedback; None keeps the project's value."""

    sigma_threshold: float | None = None
    min_expected_count: int | None = None


def effective_settings(base: AnomalySettings, override: ScopeOverride | None) -> AnomalySettings:
    """Project settings with a scope's override applied.

    An override can only make its scope quieter: if the project is later made stricter than the
    override, the stricter project value wins.
    """
    if override is None:
        return base
    sigma = base.sigma_threshold
    if override.sigma_threshold is not None:
        sigma = max(sigma, override.sigma_threshold)
    min_expected = base.min_expected_count
    if override.min_expected_count is not None:
        min_expected = max(min_expected, override.min_expected_count)
    return AnomalySettings(
        baseline_window_buckets=base.baseline_window_buckets,
        min_history_buckets=base.min_history_buckets,
        sigma_threshold=sigma,
        min_expected_count=min_expected,
    )


def tighten_after_false_positive(base: AnomalySettings, override: ScopeOverride | None) -> ScopeOverride:
    """The scope override to store after a user marks one of the scope's alerts a false positive."""
    current = effective_settings(base, override)
    return ScopeOverride(
        sigma_threshold=min(current.sigma_threshold + FALSE_POSITIVE_SIGMA_STEP, FALSE_POSITIVE_SIGMA_CAP),
        min_expected_count=min(
            current.min_expected_count + FALSE_POSITIVE_MIN_EXPECTED_STEP, FALSE_POSITIVE_MIN_EXPECTED_CAP
        ),
    )


def interval_seconds(interval: str) -> int:
    try:
        return INTERVAL_SECONDS[interval]
    except KeyError:
        raise ValueError(
            f"unknown interval {interval!r}; expected one of {sorted(INTERVAL_SECONDS)}"
        ) from None
