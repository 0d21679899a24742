"""Rules for scan config values, as pure functions.

Single values are normalised by the request schemas (so create and update share them); rules
that combine values run on the merged stored + sent state, so a PATCH that changes only one
side (e.g. clears `time_column` of a monitoring config) is still judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from tripl.observe.scans.models import ScanInterval

INTERVAL_SECONDS: dict[ScanInterval, int] = {
    ScanInterval.m15: 15 * 60,
    ScanInterval.h1: 3600,
    ScanInterval.h6: 6 * 3600,
    ScanInterval.d1: 86400,
    ScanInterval.w1: 7 * 86400,
}


class ConfigRuleError(ValueError):
    """A broken rule; `field` names the request key to blame."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def optional_column(value: str | None) -> str | None:
    """A column name, trimmed; blank means none."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def scalar_columns(values: Iterable[str]) -> list[str]:
    """Trimmed, de-duplicated (first wins) plain column names; JSON paths are refused."""
    result: list[str] = []
    for raw in values:
        name = raw.strip()
        if not name:
            raise ValueError("column names must not be blank")
        if "." in name:
            raise ValueError(f"'{name}' is not a scalar column: JSON paths (with '.') cannot be used here")
        if name not in result:
            result.append(name)
    return result


def json_value_paths(values: Iterable[str]) -> list[str]:
    """Trimmed, de-duplicated `<json_column>.<path>` entries."""
    result: list[str] = []
    for raw in values:
        entry = raw.strip()
        column, dot, path = entry.partition(".")
        if not dot or not column.strip() or not path.strip() or any(not part for part in path.split(".")):
            raise ValueError(f"'{raw}' must be '<json_column>.<path>', e.g. 'properties.screen.name'")
        if entry not in result:
            result.append(entry)
    return result


def regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"'{pattern}' is not a valid regular expression: {exc}") from None
    return pattern


def check_config(config: Mapping[str, Any]) -> None:
    """Rules across fields of a whole (merged) config; raises ConfigRuleError."""
    interval = config.get("interval")
    chunk = config.get("replay_chunk_interval")
    if interval is not None and not config.get("time_column"):
        raise ConfigRuleError(
            "interval",
            "interval needs a time_column: without one the scan cannot bucket rows by time, so it "
            "would never collect metrics. Set time_column, or clear interval for a catalog-only scan",
        )
    if chunk is not None:
        if interval is None:
            raise ConfigRuleError("replay_chunk_interval", "replay_chunk_interval needs an interval")
        if INTERVAL_SECONDS[ScanInterval(chunk)] < INTERVAL_SECONDS[ScanInterval(interval)]:
            raise ConfigRuleError(
                "replay_chunk_interval",
                f"replay_chunk_interval ({chunk}) must be at least the interval ({interval})",
            )
    reserved = {
        config.get(key): key
        for key in ("event_type_column", "time_column", "app_version_column")
        if config.get(key)
    }
    for list_key in ("metric_breakdown_columns", "distribution_drift_fields"):
        for column in config.get(list_key) or []:
            if column in reserved:
                raise ConfigRuleError(
                    list_key, f"'{column}' is the {reserved[column]} and cannot be used in {list_key}"
                )
