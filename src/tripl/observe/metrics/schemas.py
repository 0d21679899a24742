"""Metric read responses, named as in the contract."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from tripl.core.schemas import UtcDatetime
from tripl.observe.scans.models import ScanInterval

MAX_WINDOW_EVENTS = 10_000


class ScopeType(enum.StrEnum):
    """The contract's MetricScopeType: the stored series scopes plus the signal-only ones."""

    project_total = "project_total"
    event_type = "event_type"
    event = "event"
    schema = "schema"
    distribution = "distribution"
    release_regression = "release_regression"


class AnomalyDirection(enum.StrEnum):
    spike = "spike"
    drop = "drop"


class EventMetricPoint(BaseModel):
    bucket: datetime
    count: int
    expected_count: float | None = None
    stddev: float | None = None
    is_anomaly: bool = False
    anomaly_direction: AnomalyDirection | None = None
    z_score: float | None = None


class ForecastPoint(BaseModel):
    bucket: datetime
    expected_count: float
    stddev: float


class MetricSignalResponse(BaseModel):
    scan_config_id: uuid.UUID
    scope_type: ScopeType
    scope_ref: str
    state: str
    event_id: uuid.UUID | None = None
    event_type_id: uuid.UUID | None = None
    bucket: datetime
    actual_count: int
    expected_count: float
    stddev: float
    z_score: float
    direction: AnomalyDirection


class EventMetricsResponse(BaseModel):
    scope: str
    scan_config_id: uuid.UUID | None = None
    event_id: uuid.UUID | None = None
    event_type_id: uuid.UUID | None = None
    interval: ScanInterval | None = None
    latest_signal: MetricSignalResponse | None = None
    data: list[EventMetricPoint]
    forecast: list[ForecastPoint] = []


class EventWindowMetricsRequest(BaseModel):
    event_ids: list[uuid.UUID] = Field(max_length=MAX_WINDOW_EVENTS)
    time_from: UtcDatetime | None = None
    time_to: UtcDatetime | None = None


class EventWindowMetricsResponse(BaseModel):
    event_id: uuid.UUID
    scan_config_id: uuid.UUID | None = None
    interval: ScanInterval | None = None
    total_count: int
    data: list[EventMetricPoint]


class OverviewKpiSeriesResponse(BaseModel):
    days: int
    active_events: list[int]


class TopEventResponse(BaseModel):
    event_id: uuid.UUID
    name: str
    event_type_id: uuid.UUID
    total_count: int


class EventMetricBreakdownSeries(BaseModel):
    breakdown_value: str
    is_other: bool = False
    total_count: int
    data: list[EventMetricPoint]


class EventMetricBreakdownsResponse(BaseModel):
    event_id: uuid.UUID
    scan_config_id: uuid.UUID | None = None
    interval: ScanInterval | None = None
    columns: list[str]
    selected_column: str | None = None
    series: list[EventMetricBreakdownSeries]


class BreakdownTimelinePoint(BaseModel):
    bucket: datetime
    count: int


class BreakdownTimelineResponse(BaseModel):
    scan_config_id: uuid.UUID
    scope_type: ScopeType
    scope_ref: str
    breakdown_column: str
    breakdown_value: str
    is_other: bool
    interval: ScanInterval | None
    data: list[BreakdownTimelinePoint]


class SeasonalityCell(BaseModel):
    weekday: int
    hour: int
    count: int
    anomaly_count: int


class SeasonalityHeatmapResponse(BaseModel):
    scan_config_id: uuid.UUID
    scope_type: ScopeType
    scope_ref: str
    cells: list[SeasonalityCell]
    max_count: int
    total_count: int


class AppVersionInfo(BaseModel):
    version: str
    is_other: bool = False
    is_latest: bool = False


class AppVersionMetricSeries(BaseModel):
    version: str
    is_other: bool = False
    is_latest: bool = False
    total_count: int
    data: list[EventMetricPoint]


class AppVersionSeriesResponse(BaseModel):
    scan_config_id: uuid.UUID
    scope_type: ScopeType
    scope_ref: str
    event_id: uuid.UUID | None = None
    event_type_id: uuid.UUID | None = None
    app_version_column: str | None = None
    interval: ScanInterval | None = None
    latest_version: str | None = None
    versions: list[AppVersionInfo]
    series: list[AppVersionMetricSeries]


class AppVersionAdoptionResponse(AppVersionSeriesResponse):
    totals: list[BreakdownTimelinePoint]
