from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from tripl.core.deps import DbSession
from tripl.core.schemas import UtcDatetime
from tripl.observe.metrics import overview, scan_series, service
from tripl.observe.metrics.schemas import (
    AppVersionAdoptionResponse,
    AppVersionSeriesResponse,
    BreakdownTimelineResponse,
    EventMetricBreakdownsResponse,
    EventMetricsResponse,
    EventWindowMetricsRequest,
    EventWindowMetricsResponse,
    OverviewKpiSeriesResponse,
    SeasonalityHeatmapResponse,
    TopEventResponse,
)
from tripl.plan.events.models import EventStatus
from tripl.plan.events.queries import EventFilter
from tripl.plan.projects.deps import ProjectDep
from tripl.workspace.auth.deps import Viewer, ViewerQuery

router = APIRouter(prefix="/projects/{slug}", tags=["metrics"])

From = Annotated[UtcDatetime | None, Query(alias="from", description="Window start (default: to - 7 days)")]
To = Annotated[UtcDatetime | None, Query(alias="to", description="Window end (default: now)")]


def _window(time_from: From = None, time_to: To = None) -> service.Window:
    return service.resolve_window(time_from, time_to)


# The `from`/`to` query pair every series read takes, resolved to a window (default: last 7 days).
WindowQuery = Annotated[service.Window, Depends(_window)]


@router.get("/events-metrics", response_model=EventMetricsResponse, summary="Get Events Metrics")
def get_events_metrics(
    project: ProjectDep,
    db: DbSession,
    _: Viewer,
    window: WindowQuery,
    event_type_id: uuid.UUID | None = None,
    search: str | None = None,
    tag: str | None = None,
    status: Annotated[list[EventStatus] | None, Query(description="Repeat the key for several")] = None,
) -> EventMetricsResponse:
    f = EventFilter(event_type_id=event_type_id, search=search, statuses=status, tag=tag)
    return service.events_metrics(db, project, f, window)


@router.post(
    "/events/window-metrics",
    response_model=list[EventWindowMetricsResponse],
    summary="Get Events Window Metrics",
)
def get_events_window_metrics(
    body: EventWindowMetricsRequest, project: ProjectDep, db: DbSession, _: ViewerQuery
) -> Response:
    window = service.resolve_window(body.time_from, body.time_to, field="time_from")
    return Response(
        service.window_metrics(db, project, body.event_ids, window), media_type="application/json"
    )


@router.get(
    "/overview/kpi-series", response_model=OverviewKpiSeriesResponse, summary="Get Overview Kpi Series"
)
def get_overview_kpi_series(
    project: ProjectDep, db: DbSession, _: Viewer, days: Annotated[int, Query(ge=1, le=365)] = 14
) -> OverviewKpiSeriesResponse:
    return overview.kpi_series(db, project, days)


@router.get("/overview/top-events", response_model=list[TopEventResponse], summary="Get Overview Top Events")
def get_overview_top_events(
    project: ProjectDep,
    db: DbSession,
    _: Viewer,
    window_hours: Annotated[int, Query(ge=1, le=720)] = 48,
    limit: Annotated[int, Query(ge=1, le=100)] = 6,
) -> list[TopEventResponse]:
    return overview.top_events(db, project, window_hours, limit)


@router.get("/metrics/total", response_model=EventMetricsResponse, summary="Get Project Total Metrics")
def get_project_total_metrics(
    project: ProjectDep,
    db: DbSession,
    _: Viewer,
    window: WindowQuery,
    scan_config_id: uuid.UUID | None = None,
) -> EventMetricsResponse:
    return service.project_total_metrics(db, project, scan_config_id, window)


@router.get("/events/{event_id}/metrics", response_model=EventMetricsResponse, summary="Get Event Metrics")
def get_event_metrics(
    event_id: uuid.UUID,
    project: ProjectDep,
    db: DbSession,
    _: Viewer,
    window: WindowQuery,
) -> EventMetricsResponse:
    return service.event_metrics(db, project, event_id, window)


@router.get(
    "/events/{event_id}/metrics/breakdowns",
    response_model=EventMetricBreakdownsResponse,
    summary="Get Event Metric Breakdowns",
)
def get_event_metric_breakdowns(
    event_id: uuid.UUID,
    project: ProjectDep,
    db: DbSession,
    _: Viewer,
    window: WindowQuery,
    column: Annotated[
        str | None, Query(description="Breakdown column; the first configured by default")
    ] = None,
) -> EventMetricBreakdownsResponse:
    return service.event_breakdowns(db, project, event_id, column, window)


@router.get(
    "/event-types/{event_type_id}/metrics",
    response_model=EventMetricsResponse,
    summary="Get Event Type Metrics",
)
def get_event_type_metrics(
    event_type_id: uuid.UUID,
    project: ProjectDep,
    db: DbSession,
    _: Viewer,
    window: WindowQuery,
) -> EventMetricsResponse:
    return service.event_type_metrics(db, project, event_type_id, window)


@router.get(
    "/scans/{scan_config_id}/breakdown-timeline",
    response_model=BreakdownTimelineResponse,
    summary="Get Breakdown Timeline",
)
def get_breakdown_timeline(
    scan_config_id: uuid.UUID,
    project: ProjectDep,
    db: DbSession,
    _: Viewer,
    window: WindowQuery,
    scope_type: str,
    scope_ref: str,
    breakdown_column: str,
    breakdown_value: str,
    is_other: bool = False,
) -> BreakdownTimelineResponse:
    return service.breakdown_timeline(
        db,
        project,
        scan_config_id,
        scope_type,
        scope_ref,
        breakdown_column,
        breakdown_value,
        is_other,
        window,
    )


@router.get(
    "/scans/{scan_config_id}/seasonality",
    response_model=SeasonalityHeatmapResponse,
    summary="Get Seasonality Heatmap",
)
def get_seasonality_heatmap(
    scan_config_id: uuid.UUID,
    project: ProjectDep,
    db: DbSession,
    _: Viewer,
    scope_type: str,
    scope_ref: str,
    window: WindowQuery,
) -> SeasonalityHeatmapResponse:
    return scan_series.heatmap(db, project, scan_config_id, scope_type, scope_ref, window)


@router.get(
    "/scans/{scan_config_id}/app-versions",
    response_model=AppVersionSeriesResponse,
    summary="Get App Version Series",
)
def get_app_version_series(
    scan_config_id: uuid.UUID,
    project: ProjectDep,
    db: DbSession,
    _: Viewer,
    window: WindowQuery,
    scope_type: str = "project_total",
    scope_ref: str | None = None,
) -> AppVersionSeriesResponse:
    return scan_series.app_versions(db, project, scan_config_id, scope_type, scope_ref, window)


@router.get(
    "/scans/{scan_config_id}/version-adoption",
    response_model=AppVersionAdoptionResponse,
    summary="Get App Version Adoption",
)
def get_app_version_adoption(
    scan_config_id: uuid.UUID,
    project: ProjectDep,
    db: DbSession,
    _: Viewer,
    window: WindowQuery,
) -> AppVersionAdoptionResponse:
    return scan_series.version_adoption(db, project, scan_config_id, window)
